"""``facesel run --preview`` on a full disk (ux17): OpenCV's video writer reports no failed write,
so the run said "105 frames in p.avi" for a file that decoded 2 frames (an .mp4: not at all).
The file is read back when closed and a shortfall is said."""

from __future__ import annotations

import resource
import signal
import subprocess
import sys

import numpy as np
import pytest
from small_tmpfs import small_tmpfs
from test_vault_common import run_cli

from facesel.cli.run_preview import PreviewWriter


def _frames(count: int):
    rng = np.random.default_rng(0)
    return [rng.integers(0, 255, (96, 128, 3), dtype=np.uint8) for _ in range(count)]


@pytest.mark.parametrize("suffix", [".avi", ".mp4"])
def test_a_whole_preview_reads_back_and_says_no_warning(tmp_path, suffix):
    preview = PreviewWriter(tmp_path / f"p{suffix}")
    for k, frame in enumerate(_frames(12)):
        preview.write(frame, [], k)
    preview.close()
    assert preview.readable == 12
    assert preview.summary() == f"preview (faces in the clear, testing only): 12 frames in {tmp_path / f'p{suffix}'}"


@pytest.mark.parametrize("suffix", [".avi", ".mp4"])
def test_a_preview_whose_writes_fail_past_a_file_size_limit_is_said_incomplete(tmp_path, suffix):
    # A file-size limit (RLIMIT_FSIZE, SIGXFSZ ignored) makes every write past it fail with EFBIG,
    # as a full disk fails them with ENOSPC, without root: the run on the shipped clip writes
    # nothing else (--dry-run).
    from facesel.demo_data import demo_clip

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    path = tmp_path / f"p{suffix}"
    run = subprocess.run([sys.executable, "-m", "facesel", "run", str(demo_clip()), "--dry-run", "--no-progress",
                          "--preview", str(path)], capture_output=True, text=True, preexec_fn=limit, timeout=600)
    assert run.returncode == 0, run.stderr
    assert f"35 frames in {path}, but WARNING: the file reads back as" in run.stderr, run.stderr
    assert "it is incomplete (the disk may be full)" in run.stderr


def test_a_run_whose_preview_fills_a_real_tmpfs_says_so(shared_data, tmp_path, capsys):
    with small_tmpfs(tmp_path / "small", "160k") as mount:
        code, _, err = run_cli(capsys, "run", shared_data / "videos" / "arcade_walkers_1080p.mp4", "--dry-run",
                               "--no-progress", "--preview", mount / "p.avi")
        assert code == 0, err  # testing-only output: a warning, the run's own outcome unchanged
        assert f"105 frames in {mount / 'p.avi'}, but WARNING: the file reads back as" in err
