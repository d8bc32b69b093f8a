"""The short link's size gate against a face's own growth (``LinkRule.growth_size_ratio``, issue 23 session 19).

A person walking at the camera: the face grows steadily, so after a gap the same person's face is
larger than when last seen, and a farther person's face that happens to have the earlier face's
last size is not that person. Checked on hand-made track summaries (:mod:`facesel.select.face_growth`);
the material: ``tests/test_crowds_approach.py``. Off by default (docs/persons.md, "A crowd walking
at the camera": held out it changed nothing on the approaching crowds and added snapshots on the
occluded tiled crowds).
"""

from __future__ import annotations

import numpy as np
import pytest
from evidence_helpers import make_evidence
from facesel.select.face_growth import MOST_GROWTH, growth_rate, grown
from facesel.select.linking import LinkRule

_GREY = np.full((2, 64), 1 / 64, np.float32)


def _face(start: float, side0: float, rate: float, count: int = 10, cx: float = 200.0, colours=None):
    """A face centred at ``cx`` whose side grows by e^``rate`` a second from ``side0``, seen
    ``count`` frames at 25 fps from ``start`` (no colours: a small face)."""
    times = [start + i / 25 for i in range(count)]
    sides = [side0 * np.exp(rate * (t - start)) for t in times]
    boxes = [[cx - s / 2, 100 - s / 2, cx + s / 2, 100 + s / 2] for s in sides]
    return make_evidence(boxes, times, None if colours is None else [colours] * count)


def test_the_rate_is_the_slope_of_log_side_clipped_and_zero_without_enough_observations():
    t = np.arange(10) / 25
    assert growth_rate(t, 30 * np.exp(0.4 * t)) == pytest.approx(0.4)
    assert growth_rate(t, 30 * np.exp(5.0 * t)) == MOST_GROWTH
    assert growth_rate(t[:2], [30.0, 40.0]) == 0.0 and growth_rate(np.zeros(5), np.full(5, 30.0)) == 0.0
    assert grown(t, 30 * np.exp(0.4 * t), np.full((10, 1), 0.5))[-1, 0] == pytest.approx(30 * np.exp(0.4 * (t[-1] + 0.5)))


def test_off_by_default_and_validated_naming_the_field():
    assert LinkRule().growth_size_ratio is None
    with pytest.raises(ValueError, match="growth_size_ratio"):
        LinkRule(growth_size_ratio=0.9)


def test_a_growing_face_is_continued_by_its_grown_self_not_by_a_face_of_its_last_size():
    earlier = _face(0.0, 30.0, rate=0.5)  # grows 1.65x a second
    gap = 0.7
    end_side = 30.0 * np.exp(0.5 * earlier.last_time)
    itself = _face(earlier.last_time + gap, end_side * np.exp(0.5 * gap), rate=0.5)  # went on growing
    other = _face(earlier.last_time + gap, end_side, rate=0.0)  # a farther face of the last size
    default, growing = LinkRule(), LinkRule(growth_size_ratio=1.2)
    assert default.cost(earlier, itself) is not None and default.cost(earlier, other) is not None
    assert growing.cost(earlier, itself) is not None
    assert growing.cost(earlier, other) is None  # 1.42x smaller than the grown face
