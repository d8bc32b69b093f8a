"""``facesel run`` when an output fills up mid-run (ux17): the failing output is named by its flag,
the others keep every person, and the last line says what each output holds.

A full disk is stood in for by the writer raising what a full disk raises (``OSError`` ENOSPC,
the vault's own temporary-file write included, so the vault's real error path runs): a tmpfs
needs root. The last test mounts a real one when it can.
"""

from __future__ import annotations

import errno
import os
import re
import time

import pytest
from small_tmpfs import small_tmpfs
from test_vault_common import run_cli

ARCADE = "videos/arcade_walkers_1080p.mp4"  # 105 frames, about 12 snapshots


@pytest.fixture
def keys(tmp_path):
    from facesel.vault import create_authority, enrol_camera

    authority = tmp_path / "authority"
    create_authority(authority, shares=3, threshold=2, epoch_seconds=86400.0, retention_seconds=7 * 86400.0,
                     horizon_seconds=2 * 86400.0, start=time.time())
    enrol_camera(authority, tmp_path / "camera", "cam-1", sorted((authority / "shares").iterdir())[:2])
    return ["--authority", authority / "authority.pub", "--camera", tmp_path / "camera"]


def _full_after(count: int, write):
    """``write`` that works ``count`` times, then raises as on a full disk."""
    calls = []

    def full(*args, **kwargs):
        calls.append(1)
        if len(calls) > count:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return write(*args, **kwargs)

    return full


def _last_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("facesel run: error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_a_full_report_folder_is_named_and_the_vault_keeps_every_person(shared_data, tmp_path, capsys, keys,
                                                                         monkeypatch):
    # Before: "facesel run: error: [Errno 28] No space left on device" (no flag, no folder), and
    # the run stopped at the report's first failure, in the middle of a batch of results: the
    # vault sealed 11 of the 12 people a run without --report seals.
    import facesel.report

    args = ["run", shared_data / ARCADE, "--no-progress", *keys]
    with monkeypatch.context() as patched:
        patched.setattr(facesel.report.ReportWriter, "write", _full_after(0, facesel.report.ReportWriter.write))
        vault = tmp_path / "vault"
        code, _, err = run_cli(capsys, *args, "--vault", vault, "--report", tmp_path / "report")
    assert code == 1
    line = _last_error(err)
    assert f"--report {tmp_path / 'report'} could not be written (No space left on device)" in line
    # The run stops reading at the failure; how many frames the stage threads had read by then
    # depends on their relative speed (a fresh-clone CI sealed 11 against a whole video's 12). The
    # yardstick is a run without --report over exactly the frames this one processed.
    read = re.search(r"the run stopped after (\d+) of \d+ frames|the input was read to its end \((\d+) frames\)", line)
    assert read, line
    frames = read.group(1) or read.group(2)
    assert run_cli(capsys, *args, "--vault", tmp_path / "whole", "--max-frames", frames)[0] == 0
    whole = len(list((tmp_path / "whole" / "records").glob("*.fsr")))
    assert len(list((vault / "records").glob("*.fsr"))) == whole > 1
    assert f"--vault: {whole} snapshot(s) sealed in this run" in line
    assert f"--report: 0 track(s) written in this run, {whole} could not be" in line  # offered every one
    assert "'facesel audit verify' checks it" in line


def test_a_full_vault_says_what_was_sealed_before_it_and_what_was_not(shared_data, tmp_path, capsys, keys,
                                                                       monkeypatch):
    # Before: "could not store record X in V: No space left on device; nothing was stored", read
    # as if the run had kept nothing, with no word of the one record sealed before it.
    from facesel.vault import store

    monkeypatch.setattr(store, "write_temporary", _full_after(1, store.write_temporary))
    vault = tmp_path / "vault"
    code, _, err = run_cli(capsys, "run", shared_data / ARCADE, "--no-progress", "--vault", vault, *keys)
    assert code == 1
    line = _last_error(err)
    assert f"--vault {vault} could not be written (could not store record" in line
    assert len(list((vault / "records").glob("*.fsr"))) == 1
    missed = int(re.search(r"--vault: 1 snapshot\(s\) sealed in this run, (\d+) could not be", line, re.S)[1])
    assert missed >= 1
    assert run_cli(capsys, "audit", "verify", "--vault", vault, "--authority", keys[1])[0] == 0


def test_a_real_full_tmpfs_under_the_vault(shared_data, tmp_path, capsys, keys):
    """The same on a real 160 KiB tmpfs (root only): the vault's authority file fits, few records do."""
    with small_tmpfs(tmp_path / "small", "160k") as mount:
        code, _, err = run_cli(capsys, "run", shared_data / ARCADE, "--no-progress", "--vault", mount / "v", *keys)
        assert code == 1
        line = _last_error(err)
        assert f"--vault {mount / 'v'} could not be written" in line
        sealed = len(list((mount / "v" / "records").glob("*.fsr")))
        assert f"--vault: {sealed} snapshot(s) sealed in this run" in line


def test_a_second_ctrl_c_says_what_each_output_holds(tmp_path, capsys, keys, monkeypatch):
    # Before: the run printed "interrupted" only (exit 130); the people in view were sealed by the
    # flush, but nothing said so. Two real SIGINTs at frame 20 of the shipped clip: the first asks
    # the run to stop, the second (the session's own handler) raises KeyboardInterrupt at once.
    import signal

    from facesel.cli import run_session
    from facesel.demo_data import demo_clip

    after_frame = run_session.RunSession.after_frame

    def ctrl_c_twice(self, selector, frame, stamp, view=None):
        after_frame(self, selector, frame, stamp, view)
        if self._frames == 20:
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(run_session.RunSession, "after_frame", ctrl_c_twice)
    vault = tmp_path / "vault"
    code, _, err = run_cli(capsys, "run", demo_clip(), "--no-progress", "--vault", vault, *keys)
    assert code == 130, err
    sealed = len(list((vault / "records").glob("*.fsr")))
    line = next(line for line in err.splitlines() if "INTERRUPTED by a second Ctrl-C" in line)
    assert re.search(r"after \d+ of 35 frames", line), line
    assert f"--vault: {sealed} snapshot(s) sealed in this run" in line and sealed > 0, line
