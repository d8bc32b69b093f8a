"""Real-time pacing: a video file handed over at its own frame rate, as a camera would send it.

Read as fast as it decodes, a looping file stands in badly for a camera: about 100 frames/s of
1080p instead of 25 (issue 26, item 5), so a service fed by it does four times a camera's work and
a capacity figure measured with it means nothing. :class:`Pacer` holds each frame back until its
presentation time, counted from the connection's first frame on the consumer's clock.

A pacer never catches up by skipping frames: when the reader falls behind (a slow decoder, or a
lossless consumer that makes the reader wait), frames are handed over at once until it is back
on schedule, and :attr:`Pacer.behind` says by how much it lagged at the last frame.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class Pacer:
    """Waits until each frame's stream time has come.

    Parameters
    ----------
    fps : float > 0, optional
        Frames per second, used for frames without a presentation time (and for the step after
        the last known one); None when only timestamps are to be trusted.
    clock : callable () -> float
        Monotonic seconds (injectable, for tests).
    wait : callable (seconds) -> bool
        Sleeps up to ``seconds``; returns True when the wait was cut short by a stop request
        (``threading.Event.wait`` has exactly this meaning). Default ``time.sleep`` (never cut).
    """

    def __init__(self, fps: float | None = None, clock: Callable[[], float] = time.monotonic,
                 wait: Callable[[float], bool] | None = None):
        if fps is not None and (isinstance(fps, bool) or not isinstance(fps, (int, float)) or not fps > 0):
            raise ValueError(f"fps must be a positive number or None, got {fps!r}")
        self.fps = None if fps is None else float(fps)
        self._clock = clock
        self._wait = wait if wait is not None else _sleep
        self._origin: tuple[float, float] | None = None  # (clock, stream time) of the first frame
        self._last_stream = 0.0
        self.frames = 0
        self.behind = 0.0
        """Seconds the last frame was handed over after its due time (0 when on time)."""
        self.waited = 0.0
        """Seconds spent waiting in all."""

    def reset(self) -> None:
        """Start again from the next frame (a new connection: its times start anew)."""
        self._origin = None
        self.frames = 0

    def due(self, stamp: float | None) -> float:
        """The clock time at which the frame with stream time ``stamp`` is due (the first frame
        since :meth:`reset` is due at once)."""
        if stamp is None:
            step = 1.0 / self.fps if self.fps else 0.0
            stamp = self._last_stream + step if self.frames else 0.0
        stamp = float(stamp)
        if self._origin is None:
            self._origin = (self._clock(), stamp)
        self._last_stream = stamp
        self.frames += 1
        origin_clock, origin_stamp = self._origin
        return origin_clock + max(0.0, stamp - origin_stamp)

    def pace(self, stamp: float | None) -> bool:
        """Wait until the frame with stream time ``stamp`` is due; False when a stop cut the wait."""
        due = self.due(stamp)
        now = self._clock()
        if now >= due:
            self.behind = now - due
            return True
        self.behind = 0.0
        self.waited += due - now
        return not self._wait(due - now)


def _sleep(seconds: float) -> bool:
    time.sleep(seconds)
    return False
