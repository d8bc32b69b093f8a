"""SIGTERM as an exception, for commands that must clean up what they wrote.

Python's default for SIGTERM ends the process at once, without ``finally`` or ``except`` blocks:
``facesel open`` stopped by ``kill``, ``timeout`` or a service manager left the pictures it had
decrypted so far on disk (review 6, finding 3). Inside :func:`sigterm_as_exit` a SIGTERM raises
``SystemExit(143)`` instead (128 + 15, what a shell reports for it), so the opening's cleanup runs
and logs ``open-aborted``; the previous handler comes back afterwards. SIGKILL and a power cut
cannot be caught: see docs/review.md, round 6.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

EXIT_ON_SIGTERM = 128 + signal.SIGTERM


def _exit(signum, _frame):
    raise SystemExit(EXIT_ON_SIGTERM)


@contextlib.contextmanager
def sigterm_as_exit() -> Iterator[None]:
    """Within the block, SIGTERM raises ``SystemExit(143)`` (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _exit)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
