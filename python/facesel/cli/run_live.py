"""A webcam or stream as ``facesel run``'s input: :class:`facesel.sources.StreamSource` behind
the ``(frame, timestamp)`` iteration of :class:`facesel.video.FrameSource`."""

from __future__ import annotations

from facesel.sources import make_source


class LiveInput:
    """Iterate ``(frame, timestamp)`` of a live source until ``stopped()`` or ``max_frames``.

    ``every`` keeps one frame in N of those handed over; ``on_gap()`` is called before the first
    frame after a reconnection (the tracks of before cannot continue).
    """

    kind = "live"
    frame_count = None
    fps = None

    def __init__(self, target: str, every: int = 1, max_frames: int | None = None, stopped=lambda: False,
                 on_gap=lambda: None):
        self._source = make_source(target)
        self.name = self._source.name
        self.every, self.max_frames = int(every), max_frames
        self._stopped, self._on_gap = stopped, on_gap

    @property
    def stats(self):
        return self._source.stats

    def __iter__(self):
        self._source.start()
        kept = seen = 0
        epoch = None
        while not self._stopped() and (self.max_frames is None or kept < self.max_frames):
            frame = self._source.read(timeout=0.25)
            if frame is None:
                if self._source.ended:
                    return
                continue
            if epoch is not None and frame.epoch != epoch:
                self._on_gap()
            epoch = frame.epoch
            seen += 1
            if (seen - 1) % self.every:
                continue
            kept += 1
            yield frame.image, frame.timestamp

    def stop(self) -> None:
        self._source.stop()
