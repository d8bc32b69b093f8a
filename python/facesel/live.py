"""Reading a live source without lagging: the newest frames win, the dropped ones are counted.

A camera or stream delivers frames at its own rate whether or not the pipeline keeps up. Read
in turn, a slow pipeline would process ever older frames (the capture's buffer fills, or the
caller falls further behind every second). :class:`LatestFrames` reads the source in its own
thread into a small buffer; when the buffer is full the OLDEST frame is dropped, before it is
decoded further, detected or tracked, and counted. Selection then works on what it processes.
"""

from __future__ import annotations

import collections
import threading

LIVE_KINDS = frozenset({"camera", "url"})
"""``FrameSource.kind`` values that are live (their frames do not wait for the reader)."""


def is_live(frames) -> bool:
    """Whether ``frames`` is a live source (a :class:`facesel.video.FrameSource` of a camera or URL)."""
    return getattr(frames, "kind", None) in LIVE_KINDS


class LatestFrames:
    """Iterate ``frames`` through a buffer of ``size`` frames that drops its oldest when full.

    Parameters
    ----------
    frames : iterable of (frame, timestamp)
        Read in a thread of its own from the first ``next()`` on.
    size : int >= 1
        Frames the buffer holds; a frame arriving at a full buffer pushes the oldest out.

    Yields
    ------
    (frame, timestamp, dropped)
        ``dropped``: frames dropped since the previous yielded one (int >= 0).

    Attributes
    ----------
    dropped : int
        Frames dropped so far, in all.
    """

    def __init__(self, frames, size: int):
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"size must be an integer >= 1, got {size!r}")
        self._frames = frames
        self._buffer: collections.deque = collections.deque()
        self._size = size
        self._ready = threading.Condition()
        self._done = False
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self.dropped = 0

    def _read(self) -> None:
        try:
            for frame, stamp in self._frames:
                if self._stop.is_set():
                    return
                with self._ready:
                    carry = 0
                    if len(self._buffer) >= self._size:
                        # the dropped frame and those dropped before it are charged to the
                        # frame that now follows the last one yielded
                        carry = self._buffer.popleft()[2] + 1
                        self.dropped += 1
                        if self._buffer:
                            first = self._buffer[0]
                            self._buffer[0] = (first[0], first[1], first[2] + carry)
                            carry = 0
                    self._buffer.append((frame, stamp, carry))
                    self._ready.notify()
        except BaseException as err:  # handed over to the consumer, which re-raises it
            self._error = err
        finally:
            with self._ready:
                self._done = True
                self._ready.notify()

    def __iter__(self):
        reader = threading.Thread(target=self._read, name="facesel-live-read", daemon=True)
        reader.start()
        try:
            while True:
                with self._ready:
                    while not self._buffer and not self._done:
                        self._ready.wait(timeout=0.1)
                    if self._buffer:
                        item = self._buffer.popleft()
                    elif self._error is not None:
                        raise self._error
                    else:
                        return
                yield item
        finally:
            self._stop.set()
            reader.join(timeout=10.0)
