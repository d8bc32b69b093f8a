"""The README's "Using it" Python block runs as written on a fresh install: key material first,
the shipped clip, and the tracks still open at the end sealed by ``flush()``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def using_it_block() -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Using it"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_using_it_block_runs_as_written_without_the_shared_data(tmp_path):
    (tmp_path / "snippet.py").write_text(using_it_block())
    env = {key: value for key, value in os.environ.items() if key != "FACESEL_DATA"}
    done = subprocess.run([sys.executable, "snippet.py"], cwd=tmp_path, capture_output=True, text=True, env=env,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    at_end = [line for line in lines if line.startswith("open at the end")]
    closed = [line for line in lines if line.startswith("closed")]
    sealed = int(re.fullmatch(r"(\d+) snapshots sealed", lines[-1]).group(1))
    assert at_end and sealed == len(at_end) + len(closed)  # flush()'s tracks are sealed like the others
    assert len(list((tmp_path / "vault" / "records").glob("*.fsr"))) == sealed
