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
