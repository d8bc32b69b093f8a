"""A new user's walkthrough, session 23 (docs/review.md, "Walkthrough ux24"): command-line findings.
Each test fails on the branch's base."""

from __future__ import annotations

import pytest
from facesel.cli import main


def _usage_error(capsys, argv) -> str:
    """The last stderr line of ``facesel ARGV``, which must be a usage error (exit 2)."""
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    return capsys.readouterr().err.splitlines()[-1]


@pytest.mark.parametrize("camera_id", ["gate 3", "../x", "-gate", "x" * 129])
def test_camera_init_names_the_camera_id_flag(capsys, tmp_path, camera_id):
    # Before: exit 1, "facesel camera: camera id must be 1-128 letters ...": no flag named.
    out = tmp_path / "cam"
    err = _usage_error(capsys, ["camera", "init", "--out", str(out), f"--camera-id={camera_id}",
                                "--authority-fingerprint", "a" * 64])
    assert err.startswith("facesel camera init: error: argument --camera-id: must be 1-128 letters"), err
    assert repr(camera_id) in err
    assert not out.exists()  # refused before the folder is made


def test_batch_workers_beyond_the_bound_is_a_usage_error(capsys, tmp_path):
    # Before: --workers 100000 was taken (and, with --ray local, asked Ray for 100000 CPUs).
    err = _usage_error(capsys, ["batch", str(tmp_path / "v.mp4"), "--central", "postgresql://x/y", "--camera",
                                str(tmp_path), "--authority", str(tmp_path / "a.pub"), "--workers", "100000"])
    assert err.startswith("facesel batch: error: argument --workers: must be an integer in [1, 1024], got 100000"), err


def test_batch_says_what_its_workers_will_not_do():
    from facesel.cli.batch import workers_note

    assert workers_note(2, 5, None, 4) is None
    assert workers_note(1, 1, None, 1) is None
    assert "--workers 8 for 3 video(s): 3 pipeline(s) run" in workers_note(8, 3, None, 16)
    assert "3 pipelines on 2 CPU(s)" in workers_note(8, 3, None, 2)
    assert "3 pipelines on 2 CPU(s)" in workers_note(3, 10, "local", 2)
    assert "is not used with --ray auto" in workers_note(4, 10, "auto", 2)
    assert workers_note(1, 10, "auto", 2) is None
