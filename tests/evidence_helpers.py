"""Hand-made track evidence for the re-link tests (tests/test_crowds.py, tests/test_relink_long.py)."""

from __future__ import annotations

from facesel.select.evidence import TrackEvidence


def make_evidence(boxes, times, colours=None) -> TrackEvidence:
    """A track's evidence from its (x1, y1, x2, y2) boxes seen at ``times`` (seconds, 25 frames/s),
    detector confidence 0.9, no landmarks; ``colours`` (one per box) as each box's last colours."""
    e = TrackEvidence()
    for k, (box, t) in enumerate(zip(boxes, times)):
        e.add(box, 0.9, None, t, round(t * 25), False)
        if colours is not None:
            e.colour_last(colours[k])
    return e


def stream_tracks(fin, spans: dict, closes: dict, box_of, result_of, frames: int, fps: float = 25.0) -> list:
    """Feed hand-made tracks to a finaliser frame by frame, as the Selector would: per frame the
    boxes of the tracks alive (``spans``: track id -> range of frames; ``box_of(track id)`` ->
    (4,) float32), detector confidence 0.9, no colours; a track's ``result_of(track id)`` added at
    its frame of ``closes``; then :meth:`Finaliser.poll`, and :meth:`Finaliser.flush` after
    ``frames``. Returns (frame of release, result) pairs, ``frames`` for those the flush released."""
    import numpy as np
    from facesel.types import Detections

    out = []
    for f in range(frames):
        ids = [t for t, span in spans.items() if f in span]
        if ids:
            boxes = np.stack([box_of(t) for t in ids])
            fin.evidence.observe_frame(ids, Detections(boxes, np.full(len(ids), 0.9, np.float32)), f / fps, f,
                                       [None] * len(ids))
        for t in [t for t, c in closes.items() if c == f]:
            fin.add(result_of(t), f / fps)
        out += [(f, r) for r in fin.poll(f / fps)]
    return out + [(frames, r) for r in fin.flush()]
