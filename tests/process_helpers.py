"""Subprocesses of the signal tests: never left running, whatever a test assertion does."""

from __future__ import annotations

import contextlib
import subprocess


@contextlib.contextmanager
def running(process: subprocess.Popen):
    """Yield ``process``; on the way out kill it if it is still running."""
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
