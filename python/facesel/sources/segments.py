"""A live source's frames cut into segments of continuous frames, one per connection epoch.

Frames before and after a reconnection are not continuous (the gap may have lasted hours, and
the tracker counts its patience in frames), so the open tracks must be closed between them. The
pipeline's stage threads (``Selector.run``) read the frames themselves, so the cut is made in
the frame stream: each segment is its own iterable, run to its end before the next one is
handed out, and whoever runs them closes the tracks in between, on its own thread
(:func:`facesel.serve.pipeline_adapter.views_by_segment`).
"""

from __future__ import annotations


class Segment:
    """``(image, timestamp)`` pairs of one connection epoch (iterate once).

    Attributes
    ----------
    gap : bool
        Set when the segment ended because the stream broke (connection lost, or frames of a
        new epoch arrived), not because the source ended or a stop was asked for.
    """

    def __init__(self, owner: EpochSegments, first):
        self._owner, self._first = owner, first
        self.gap = False
        self.done = False

    def __iter__(self):
        return self._owner._frames(self, self._first)

    @property
    def keeps_newest(self) -> bool:
        """True when the source is live: its bounded queue (``buffer_frames``) drops its oldest
        frames and counts them, so the pipeline should take a frame only when it has room
        (``Selector.run``) rather than queue frames again."""
        return bool(getattr(self._owner._source, "live", False))


class EpochSegments:
    """Iterate the :class:`Segment` s of a started :class:`facesel.sources.StreamSource`.

    Parameters
    ----------
    source : StreamSource
        Started.
    stopped : callable () -> bool
        Polled between reads: true ends the current segment and the iteration.
    keep : callable (Frame) -> bool, optional
        Which frames to hand over (e.g. one in N); called once per frame received.
    waiting : callable () -> None, optional
        Called on every empty read between two segments (while no frame comes after a gap), on
        the iterating thread: timed work that must not run beside the pipeline (retention).
    on_end : callable () -> None, optional
        Called once when the source has ended for good; it may raise (a camera that must not end).
    poll : float
        Seconds of each read's wait.

    A segment is handed out only after its first frame has arrived, and only once the previous
    one has been iterated to its end; a segment left early ends the iteration.
    """

    def __init__(self, source, stopped, keep=None, waiting=None, on_end=None, poll: float = 0.25):
        self._source, self._stopped = source, stopped
        self._keep = keep or (lambda frame: True)
        self._waiting = waiting or (lambda: None)
        self._on_end = on_end or (lambda: None)
        self._poll = float(poll)
        self._pending = None  # the first frame of the next epoch, read by the segment before
        self._epoch = None

    def __iter__(self):
        while True:
            first = self._first_frame()
            if first is None:
                return
            segment = Segment(self, first)
            yield segment
            if not segment.done:
                return  # left early: the caller stopped

    def _first_frame(self):
        pending, self._pending = self._pending, None
        if pending is not None and self._keep(pending):
            self._epoch = pending.epoch
            return pending
        while not self._stopped():
            frame = self._source.read(timeout=self._poll)
            if frame is None:
                if self._source.ended:
                    self._on_end()
                    return None
                self._waiting()
                continue
            if self._keep(frame):
                self._epoch = frame.epoch
                return frame
        return None

    def _frames(self, segment: Segment, first):
        yield first.image, first.timestamp
        while not self._stopped():
            frame = self._source.read(timeout=self._poll)
            if frame is None:
                if self._source.ended:
                    break
                if not self._source.stats.connected:
                    segment.gap = True  # lost: close the tracks now, not when it comes back
                    break
                continue
            if frame.epoch != self._epoch:
                segment.gap, self._pending = True, frame
                break
            if self._keep(frame):
                yield frame.image, frame.timestamp
        segment.done = True
