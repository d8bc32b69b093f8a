"""Subprocesses of the signal tests: never left running, whatever a test assertion does."""

from __future__ import annotations

import contextlib
import subprocess


@contextlib.contextmanager
def running(process: subprocess.Popen):
    """Yield ``process``; on the way out kill it if it is still running.

    Enter it after (to the right of) any ``contextlib.closing`` of the process's pipes, so that it
    exits first: closing a pipe while a reader thread is blocked reading it waits for that read,
    which with the process still alive never ends. A failed assertion in the block then hung the
    test run instead of failing the test (session 18: test_serve's SIGHUP test, hung 10 minutes
    until its serve process was killed by hand)."""
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
