"""Console streams whose reader may go away without taking the run with it.

``facesel run ... 2>&1 | head`` (or a log collector that restarts) closes the pipe behind stdout and
stderr; the next progress-bar refresh or summary line then raised BrokenPipeError and ended the run,
with the open tracks of a file never sealed. :class:`PipeSafe` wraps such a stream: on the first
broken pipe it points the stream's descriptor at /dev/null and goes on, so that the console is
lost, not the evidence.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys


class PipeSafe:
    """A text stream (``sys.stdout``, ``sys.stderr``) whose writes never raise BrokenPipeError.

    Everything else (``fileno``, ``isatty``, ``encoding``...) is the wrapped stream's."""

    def __init__(self, stream):
        self._stream = stream
        self.broken = False

    def write(self, text: str) -> int:
        """Write ``text``; once the reader has gone (a broken pipe), discard it and every later write."""
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._discard()
            return len(text)

    def flush(self) -> None:
        """Flush; a broken pipe discards what is buffered instead of raising."""
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._discard()

    def _discard(self) -> None:
        """Point the descriptor at /dev/null: what the stream still buffers, and all later writes
        (the interpreter's last flush at exit included), go nowhere instead of failing."""
        self.broken = True
        with contextlib.suppress(OSError, ValueError, AttributeError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, self._stream.fileno())
            finally:
                os.close(devnull)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def listing(func):
    """Decorate a listing subcommand's ``func(args) -> int``: a reader that leaves early
    (``facesel list | head``) is normal for a listing, as for ``ls | head``, so stdout becomes a
    :class:`PipeSafe` for the command's run. The command still runs to its end: its exit code and its
    stderr lines (a REJECTED record) are those of a reader that read everything."""

    @functools.wraps(func)
    def wrapper(args):
        real = sys.stdout
        sys.stdout = safe = PipeSafe(real)
        try:
            code = func(args)
            safe.flush()  # a closed pipe shows here at the latest, while the stream is still safe
            return code
        finally:
            sys.stdout = real

    return wrapper
