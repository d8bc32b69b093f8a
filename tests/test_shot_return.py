"""The shot-return link (issue 23, session 20): a track a scene cut ended is continued after the cut
back to its shot, at its place and size, with close colours; never without colours, never when
the shot that comes back is another one.

First on hand-made evidence (:class:`facesel.select.evidence.TrackEvidence`, thumbnails of flat
grey levels), then on TV-style intercut real clips from the shared folder (the ``shared_data``
fixture; made in memory by :mod:`facesel.eval.intercut`, never written).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from facesel.select.evidence import TrackEvidence
from facesel.select.shot_return import SHOT_RETURN_OFFSET, ShotMemory, ShotReturnRule


def _colours(level: float) -> np.ndarray:
    """(2, 64) float32 histograms with all their weight in bin ``int(level)`` (face) and 0 (band)."""
    out = np.zeros((2, 64), np.float32)
    out[0, int(level)] = 1.0
    out[1, 0] = 1.0
    return out


def _evidence(frames, box, colours) -> TrackEvidence:
    """A track seen on ``frames`` (at 25 fps) at ``box`` (x1, y1, x2, y2) with ``colours`` (or None)."""
    e = TrackEvidence()
    for f in frames:
        e.add(np.asarray(box, np.float64), 0.9, None, f / 25.0, f, False)
        if colours is not None:
            e.colour_last(colours)
    return e


def _thumb(level: float) -> np.ndarray:
    return np.full((27, 48), level, np.float32)


def _memory(back_level: float = 100.0) -> ShotMemory:
    """Cuts on frames 50 (shot A, grey 100, to shot B, grey 30) and 100 (B to ``back_level``)."""
    memory = ShotMemory(ShotReturnRule())
    memory.record(50, 2.0, _thumb(100), _thumb(30))
    memory.record(100, 4.0, _thumb(30), _thumb(back_level))
    return memory


A_BOX = (100, 100, 200, 200)


def test_a_track_is_continued_after_the_cut_back_to_its_shot():
    a1 = _evidence(range(0, 50), A_BOX, _colours(5))
    a2 = _evidence(range(101, 150), (110, 105, 210, 205), _colours(5))  # found a frame after the cut
    cost = _memory().cost(a1, a2)
    assert cost is not None and SHOT_RETURN_OFFSET <= cost < SHOT_RETURN_OFFSET + 0.2
    assert _memory().holds(a1)  # a cut ended it: held for the return


def test_another_shot_or_another_place_or_other_colours_or_none_refuse():
    a1 = _evidence(range(0, 50), A_BOX, _colours(5))
    a2 = _evidence(range(101, 150), A_BOX, _colours(5))
    assert _memory(back_level=160).cost(a1, a2) is None  # the cut back shows another shot
    assert _memory().cost(a1, _evidence(range(101, 150), (300, 100, 400, 200), _colours(5))) is None  # elsewhere
    assert _memory().cost(a1, _evidence(range(101, 150), (90, 90, 260, 260), _colours(5))) is None  # 1.7x the size
    assert _memory().cost(a1, _evidence(range(101, 150), A_BOX, _colours(40))) is None  # other clothes / hair
    assert _memory().cost(a1, _evidence(range(101, 150), A_BOX, None)) is None  # no colours: never
    assert _memory().cost(a1, _evidence(range(120, 150), A_BOX, _colours(5))) is None  # starts 0.8 s after the cut


def test_only_a_track_that_a_cut_ended_is_held_and_continued():
    memory = _memory()
    ended_before = _evidence(range(0, 40), A_BOX, _colours(5))  # last seen 0.44 s before the cut
    assert not memory.holds(ended_before)
    assert memory.cost(ended_before, _evidence(range(101, 150), A_BOX, _colours(5))) is None
    # a cut in between: the track starts in a third shot, not at the return
    memory.record(110, 4.4, _thumb(100), _thumb(200))
    assert memory.cost(_evidence(range(0, 50), A_BOX, _colours(5)), _evidence(range(111, 150), A_BOX, _colours(5))) is None


def test_a_new_stream_forgets_the_cuts_and_bad_settings_are_named():
    memory = _memory()
    memory.record(10, 0.4, _thumb(0), _thumb(50))  # frame numbers started again
    assert len(memory.cuts) == 1
    with pytest.raises(ValueError, match="thumb_distance"):
        ShotReturnRule(thumb_distance=-1)
    with pytest.raises(ValueError, match="max_size_ratio"):
        ShotReturnRule(max_size_ratio=0.5)
    with pytest.raises(ValueError, match="shots"):
        ShotReturnRule(shots=0)
    with pytest.raises(TypeError, match="ShotReturnRule"):
        ShotMemory("loose")
