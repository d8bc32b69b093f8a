"""``facesel demo`` on a fresh machine: no shared data, the clip shipped inside the package."""

from __future__ import annotations

import hashlib

from facesel.cli import main
from facesel.demo_data import DEMO_CLIP, demo_clip


def test_shipped_clip_and_its_licence_are_in_the_package():
    clip = demo_clip()
    assert clip.name == DEMO_CLIP and clip.stat().st_size > 1_000_000
    licence = clip.with_name("LICENSE-intel-sample-videos-CC-BY-4.0.txt").read_text()
    assert "Attribution 4.0 International" in licence


def test_shipped_clip_is_the_shared_one(shared_data):
    shared = (shared_data / "videos" / DEMO_CLIP).read_bytes()
    assert hashlib.sha256(demo_clip().read_bytes()).digest() == hashlib.sha256(shared).digest()


def test_demo_runs_with_an_empty_data_folder(tmp_path, monkeypatch, capsys):
    empty = tmp_path / "no-data"
    empty.mkdir()
    monkeypatch.setenv("FACESEL_DATA", str(empty))
    work = tmp_path / "demo"
    assert main(["demo", "--workdir", str(work)]) == 0
    out = capsys.readouterr().out
    assert "using the demo clip shipped with facesel" in out and "CC BY 4.0" in out
    assert DEMO_CLIP in out  # the run step names the clip it used
    opened = [p for p in (work / "opened").rglob("*") if p.is_file()]
    assert opened, "the demo opened no record"
