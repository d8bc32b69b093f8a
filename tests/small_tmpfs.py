"""A small tmpfs for the full-disk and read-only-disk tests (ux17): mounting needs root, so the
tests that use it skip elsewhere; stand-ins beside them cover the same code paths."""

from __future__ import annotations

import os
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def small_tmpfs(folder: Path, size: str, read_only: bool = False, prepare=None):
    """Mount a tmpfs of ``size`` (``"160k"``) on ``folder`` (made here) for the ``with`` block; skip
    the test when it cannot be mounted. ``prepare(folder)`` runs before a ``read_only`` remount."""
    folder = Path(folder)
    folder.mkdir(exist_ok=True)
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                                           capture_output=True).returncode != 0:
        pytest.skip("a small tmpfs needs root (and mount rights); the stand-in tests cover the same path")
    try:
        if prepare is not None:
            prepare(folder)
        if read_only:
            subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)
