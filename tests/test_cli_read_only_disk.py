"""An output or a vault on a disk mounted read-only is said so (ux17): the checks before any work
said "permission denied", even to root, for whom nothing is denied but the mount."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from small_tmpfs import small_tmpfs
from test_vault_common import run_cli

CLIP = Path(__file__).resolve().parents[1] / "python" / "facesel" / "demo_data" / "intel_face_demographics_walking.gif"


@pytest.fixture
def read_only(tmp_path):
    """A tmpfs holding ``v/`` (a folder), remounted read-only (root only)."""
    with small_tmpfs(tmp_path / "ro", "64k", read_only=True, prepare=lambda folder: (folder / "v").mkdir()) as mount:
        yield mount


def _line(code, err, command):
    assert code == 1 and "Traceback" not in err, err
    return next(line for line in err.splitlines() if re.match(rf"facesel {command}( [a-z-]+)?: error:", line))


def test_outputs_on_a_read_only_disk_are_said_read_only(read_only, capsys):
    line = _line(*run_cli(capsys, "run", CLIP, "--no-progress", "--plaintext-out", read_only / "v")[::2], "run")
    assert line.endswith(f"--plaintext-out {read_only / 'v'}: cannot write into it: read-only file system")
    line = _line(*run_cli(capsys, "run", CLIP, "--no-progress", "--plaintext-out", read_only / "new")[::2], "run")
    assert line.endswith(f"--plaintext-out {read_only / 'new'}: cannot be made: read-only file system on {read_only}")
    line = _line(*run_cli(capsys, "run", CLIP, "--no-progress", "--dry-run", "--preview", read_only / "p.avi")[::2], "run")
    assert line.endswith(f"--preview {read_only / 'p.avi'}: cannot be written: read-only file system on {read_only}")


def test_a_folder_only_its_permissions_shut_is_still_permission_denied(tmp_path, monkeypatch):
    # The other reason stays as it was (os.access saying no on a read-write file system; a stand-in
    # for another user's folder, which root cannot be denied).
    from facesel import writable

    shut = tmp_path / "shut"
    shut.mkdir()
    original = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: False if Path(path) == shut else original(path, mode, **kw))
    with pytest.raises(ValueError, match=r"--out .*shut: cannot write into it: permission denied$"):
        writable.refuse_unwritable_folder("--out", shut)
