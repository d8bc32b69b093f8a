"""The short link's reach for moving faces (issue 23, session 23b; off by default, docs/persons.md
"The short link's reach for moving faces").

For an earlier fragment moving at least ``moving_speed`` of its box sides a second, the short
link's position allowance is at most ``moving_distance`` plus ``moving_per_second`` per second of
gap (``LinkRule.moving_distance``; :mod:`facesel.select.moving_limit`). Hand-made tracks: a face of
60 px walking right at 60 px (one box side) a second, 25 frames a second.
"""

from __future__ import annotations

import pytest
from evidence_helpers import make_evidence
from facesel.select.linking import LinkRule
from facesel.select.moving_limit import is_moving, moving_allowance
from test_relink_lone import _colours

SIDE = 60


def _walk(x0, y, start, count=10, speed=60.0):
    """A face of SIDE px at (``x0``, ``y``) at ``start`` s walking right at ``speed`` px/s."""
    times = [start + i / 25 for i in range(count)]
    boxes = [[x0 + speed * (t - start), y, x0 + speed * (t - start) + SIDE, y + SIDE] for t in times]
    return make_evidence(boxes, times, [_colours(0.0)] * count)


def _after(earlier, gap, off_y, speed=60.0):
    """A later face starting ``gap`` s after ``earlier`` ended, where ``earlier`` was heading
    (its velocity carried through the gap), ``off_y`` box sides below that place, walking on."""
    x = float(earlier.last_box[0]) + speed * gap
    return _walk(x, 100 + off_y * SIDE, earlier.last_time + gap, speed=speed)


def test_off_by_default_and_validated_naming_the_field():
    rule = LinkRule()
    assert rule.moving_distance is None and rule.moving_per_second == 0.0 and rule.moving_speed == 0.5
    for name, bad in (("moving_distance", -0.1), ("moving_distance", float("nan")), ("moving_distance", True),
                      ("moving_per_second", -1.0), ("moving_per_second", None), ("moving_speed", float("inf")),
                      ("moving_speed", "0.5")):
        with pytest.raises(ValueError, match=name):
            LinkRule(**{name: bad})


def test_a_walker_is_moving_a_still_face_is_not():
    assert is_moving(_walk(100, 100, 0.0), 0.5)  # one box side a second
    assert not is_moving(_walk(100, 100, 0.0, speed=0.0), 0.5)
    assert not is_moving(_walk(100, 100, 0.0, speed=24.0), 0.5)  # 0.4 box sides a second: under 0.5
    assert moving_allowance(_walk(100, 100, 0.0), 0.5, None, 0.5, 0.5) is None  # off
    assert moving_allowance(_walk(100, 100, 0.0), 0.5, 0.5, 0.5, 0.5) == pytest.approx(0.75)
    assert moving_allowance(_walk(100, 100, 0.0), -0.1, 0.5, 0.5, 0.5) == pytest.approx(0.5)  # an overlap adds nothing


def test_a_walker_found_off_the_predicted_place_is_refused_only_with_the_limit():
    a = _walk(100, 100, 0.0)
    b = _after(a, 0.5, 0.6)  # 0.6 box sides off where a was heading, 0.5 s later
    assert LinkRule().cost(a, b) == pytest.approx(0.6, abs=0.01)  # the default allows 1.25 at 0.5 s
    assert LinkRule(moving_distance=0.5).cost(a, b) is None
    assert LinkRule(moving_distance=0.75).cost(a, b) == pytest.approx(0.6, abs=0.01)
    # scaled by the gap: 0.5 + 0.5 x 0.5 s = 0.75 allows it; at 0.1 s (0.55) it does not
    assert LinkRule(moving_distance=0.5, moving_per_second=0.5).cost(a, b) == pytest.approx(0.6, abs=0.01)
    b_soon = _after(a, 0.1, 0.6)
    assert LinkRule().cost(a, b_soon) == pytest.approx(0.6, abs=0.01)
    assert LinkRule(moving_distance=0.5, moving_per_second=0.5).cost(a, b_soon) is None
    # near the predicted place every candidate links
    b_near = _after(a, 0.5, 0.2)
    for d, per in ((0.5, 0.0), (0.75, 0.0), (0.5, 0.5), (0.75, 0.5)):
        assert LinkRule(moving_distance=d, moving_per_second=per).cost(a, b_near) == pytest.approx(0.2, abs=0.01)


def test_a_still_face_keeps_the_default_allowance():
    a = _walk(100, 100, 0.0, speed=0.0)
    b = _after(a, 0.5, 0.6, speed=0.0)  # 0.6 box sides from where it was last seen
    assert LinkRule().cost(a, b) == pytest.approx(0.6, abs=0.01)
    assert LinkRule(moving_distance=0.5).cost(a, b) == pytest.approx(0.6, abs=0.01)
    # and the limit never loosens: a walker found beyond the default's allowance stays refused
    w = _walk(100, 100, 0.0)
    far = _after(w, 0.25, 1.1)  # the default allows 1.0 at 0.25 s
    assert LinkRule().cost(w, far) is None
    assert LinkRule(moving_distance=2.0, moving_per_second=2.0).cost(w, far) is None
