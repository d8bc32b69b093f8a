"""A bouncing child's reach (issue 23, session 16; off by default, docs/persons.md "A bouncing child's reach").

``LinkRule.reach_per_speed`` grows the short link's position allowance with the earlier fragment's
own path speed (box sides a second along its centre's path: the tracker's motion, no identity), so
a face that moved fast up and down may come back further from where it was than a walker may.
Hand-made summaries only: the setting reads boxes and times.
"""

from __future__ import annotations

import pytest
from evidence_helpers import make_evidence
from facesel.select.link_explain import explain
from facesel.select.linking import LinkRule
from facesel.select.motion_reach import MIN_TAIL_OBSERVATIONS, path_speed, reach
from test_relink_lone import _colours

SIDE = 40
REACH = LinkRule(reach_per_speed=1.0, reach_speed=3.0)


def _track(centres, start):
    """A face of :data:`SIDE` px whose box centre is at each of ``centres`` (one per frame, 25 fps)."""
    boxes = [[x - SIDE / 2, y - SIDE / 2, x + SIDE / 2, y + SIDE / 2] for x, y in centres]
    return make_evidence(boxes, [start + i / 25 for i in range(len(boxes))], [_colours(0.0)] * len(boxes))


def _bouncing(n=10, start=0.0, step=8):
    """Up and down by ``step`` px a frame at x 200 (8 px of a 40 px face at 25 fps: 5 sides a second
    along its path, about none net)."""
    return _track([(200, 200 + step * (i % 2)) for i in range(n)], start)


def _walking(n=10, start=0.0, step=2):
    """Right by ``step`` px a frame (2 px: 1.25 sides a second)."""
    return _track([(200 + step * i, 200) for i in range(n)], start)


def test_the_setting_is_off_by_default_and_validated_naming_the_field():
    rule = LinkRule()
    assert rule.reach_per_speed is None and rule.reach_most is None
    for name, bad in (("reach_per_speed", -0.5), ("reach_per_speed", True), ("reach_per_speed", float("inf")),
                      ("reach_speed", -1.0), ("reach_speed", None), ("reach_most", float("nan")), ("reach_most", "1")):
        with pytest.raises(ValueError, match=name):
            LinkRule(**{name: bad})


def test_path_speed_counts_an_oscillation_in_full_in_the_boxes_own_sides():
    bouncer = _bouncing()
    assert path_speed(bouncer) == pytest.approx(5.0)
    assert abs(bouncer.velocity()[1]) < SIDE  # its net velocity (what the short link predicts with): under a side a second
    assert path_speed(_walking()) == pytest.approx(1.25)
    assert path_speed(_bouncing(n=MIN_TAIL_OBSERVATIONS - 1)) is None
    assert reach(bouncer, 0.3, 1.0, 3.0, None) == pytest.approx(1.5)
    assert reach(bouncer, 0.3, 1.0, 3.0, 0.5) == pytest.approx(0.5)  # capped
    assert reach(bouncer, -0.1, 1.0, 3.0, None) == 0.0  # an overlap adds nothing
    assert reach(_walking(), 0.3, 1.0, 3.0, None) == 0.0  # slower than reach_speed


def test_a_bouncing_child_two_sides_away_after_the_gap_is_linked_only_with_the_reach():
    bouncer = _bouncing()
    later = _track([(200 + 2 * SIDE, 204)] * 8, bouncer.last_time + 0.3)  # 2 sides aside, 0.3 s on
    assert LinkRule().cost(bouncer, later) is None  # allowance 0.75 + 0.3
    assert REACH.cost(bouncer, later) == pytest.approx(2.0, abs=0.02)  # + 5 sides/s x 0.3 s
    assert LinkRule(reach_per_speed=0.5, reach_speed=3.0).cost(bouncer, later) is None  # + 0.75 only
    assert LinkRule(reach_per_speed=1.0, reach_speed=3.0, reach_most=0.5).cost(bouncer, later) is None
    gates = explain(REACH, bouncer, later)
    assert gates["allowance"] == pytest.approx(0.75 + 0.3 + 1.5)
    assert "position" not in gates["refused"]
    assert "position" in explain(LinkRule(), bouncer, later)["refused"]


def test_a_walker_gets_no_more_reach_and_a_far_fragment_stays_apart():
    walker = _walking()
    start = walker.last_time + 0.3
    heading = walker.last_box[0] + SIDE / 2 + 2 * 0.3 * 25  # where it was heading
    later = _track([(heading, 200 + 2 * SIDE)] * 8, start)  # 2 sides off its way
    assert LinkRule().cost(walker, later) is None
    assert REACH.cost(walker, later) is None  # 1.25 sides a second: under reach_speed 3
    assert LinkRule(reach_per_speed=1.0, reach_speed=0.0).cost(walker, later) is None  # + 0.38 only
    on = _track([(heading, 200)] * 8, start)
    assert REACH.cost(walker, on) is not None and LinkRule().cost(walker, on) is not None
