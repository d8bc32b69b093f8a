"""A webcam or stream as ``facesel run``'s input: :class:`facesel.sources.StreamSource` cut into
one segment per connection epoch (:class:`facesel.sources.EpochSegments`)."""

from __future__ import annotations

import time

from facesel.sources import EpochSegments, make_source
from facesel.sources.frame_limit import MAX_FRAME_PIXELS


class LiveInput:
    """The segments of a live source until ``stopped()`` or ``max_frames`` frames kept.

    Iterating gives :class:`facesel.sources.Segment` s of ``(frame, timestamp)``; ``every`` keeps
    one frame in N of those received. Between two segments (a reconnection) the tracks of before
    cannot continue: whoever runs the segments closes them
    (:func:`facesel.serve.pipeline_adapter.views_by_segment`).
    """

    kind = "live"
    frame_count = None
    fps = None

    def __init__(self, target: str, every: int = 1, max_frames: int | None = None, stopped=lambda: False,
                 open_timeout: float = 15.0, max_frame_pixels: int = MAX_FRAME_PIXELS):
        if not open_timeout > 0:
            raise ValueError(f"--open-timeout must be a positive number of seconds, got {open_timeout!r}")
        self._source = make_source(target, max_frame_pixels=max_frame_pixels)
        self.open_timeout = float(open_timeout)
        self._started_at: float | None = None
        self.name = self._source.name
        self.every, self.max_frames = int(every), max_frames
        self._stopped = stopped
        self._seen = self._kept = 0

    @property
    def stats(self):
        """The live source's counters (:class:`facesel.sources.stream.SourceStats`)."""
        return self._source.stats

    def _keep(self, frame) -> bool:
        self._seen += 1
        if (self._seen - 1) % self.every:
            return False
        self._kept += 1
        return True

    def _done(self) -> bool:
        return self._stopped() or (self.max_frames is not None and self._kept >= self.max_frames)

    def segments(self):
        """Start the source and hand out its frames (one in ``every``) as segments of continuous
        frames, one a connection epoch (:class:`facesel.sources.segments.EpochSegments`).
        """
        self._started_at = time.monotonic()
        self._source.start()
        return iter(EpochSegments(self._source, self._done, keep=self._keep, waiting=self._check_first_frame))

    def _check_first_frame(self) -> None:
        """While no frame has come yet: give up after ``open_timeout`` with the reason (a webcam
        that is not there, a wrong URL) instead of retrying for ever. Once a first frame came,
        a lost connection is retried without limit (a camera that reboots comes back)."""
        stats = self._source.stats
        waited = time.monotonic() - self._started_at
        if stats.frames_received == 0 and waited > self.open_timeout:
            what = f"webcam {self.name}" if str(self.name).isdigit() else self.name
            raise ValueError(f"no frame from {what} within --open-timeout {self.open_timeout:g} s "
                             f"({stats.connect_failures} failed attempts; last error: "
                             f"{stats.last_error or 'none reported'})")

    def stop(self) -> None:
        """Stop the source's reader thread."""
        self._source.stop()
