"""Motion through the gap (issue 23, session 15; off by default, docs/persons.md "Motion through the gap").

``LinkRule.motion_keep`` refuses a short link whose later fragment does not go on the way the
earlier one, walking, was going (in box sides a second: the tracker's motion, no identity). Links
across the frame's edge are judged apart (a person turning back at the edge reverses). Hand-made
summaries only: the gate reads boxes and times.
"""

from __future__ import annotations

import pytest
from evidence_helpers import make_evidence
from facesel.select.gap_motion import MIN_HEAD_OBSERVATIONS, head_motion, motion_kept, tail_motion
from facesel.select.linking import LinkRule
from test_relink_lone import _colours

SHAPE = (360, 640)
MOTION = LinkRule(motion_keep=0.5, motion_speed=1.0)


def _walk(xs, start, y=100, side=40):
    """A face of ``side`` px at height ``y`` whose box starts at each of ``xs`` (one per frame, 25 fps)."""
    e = make_evidence([[x, y, x + side, y + side] for x in xs], [start + i / 25 for i in range(len(xs))],
                      [_colours(0.0)] * len(xs))
    e.frame_shape = SHAPE
    return e


def _right(x0, n, start, step=4):
    """Walking right at ``step`` px a frame (4 px of a 40 px face at 25 fps: 2.5 sides a second)."""
    return _walk([x0 + step * i for i in range(n)], start)


def test_the_gate_is_off_by_default_and_validated_naming_the_field():
    rule = LinkRule()
    assert rule.motion_keep is None and rule.motion_most is None and rule.motion_at_edge is False
    for name, bad in (("motion_keep", float("nan")), ("motion_keep", True), ("motion_most", "2"),
                      ("motion_speed", 0.0), ("motion_speed", -1.0), ("motion_speed", None), ("motion_at_edge", 1)):
        with pytest.raises(ValueError, match=name):
            LinkRule(**{name: bad})


def test_motion_is_measured_in_the_boxes_own_sides_a_second():
    walker = _right(200, 10, 0.0)
    assert tail_motion(walker)[0] == pytest.approx(2.5)
    assert head_motion(walker)[0] == pytest.approx(2.5)
    assert head_motion(_right(200, MIN_HEAD_OBSERVATIONS - 1, 0.0)) is None  # too few to judge
    later = _right(300, 8, walker.last_time + 0.4)
    assert motion_kept(walker, later, 1.0) == pytest.approx(1.0)


def test_a_walker_coming_out_the_other_way_is_refused_and_one_walking_on_is_linked():
    walker = _right(200, 10, 0.0)  # out of sight behind someone at x about 236
    start = walker.last_time + 0.4
    on = _right(296, 8, start)  # where it was heading, the same pace
    back = _walk([296 - 4 * i for i in range(8)], start)  # the same place, walking left
    standing = _walk([296 + (i % 2) for i in range(8)], start)  # jitters, a pixel on over its 8 boxes
    assert LinkRule().cost(walker, back) is not None  # the default joins the two
    assert MOTION.cost(walker, on) is not None
    assert MOTION.cost(walker, back) is None
    assert motion_kept(walker, standing, 1.0) == pytest.approx(25 / 7 / 40 / 2.5)  # 0.04 of the motion
    assert MOTION.cost(walker, standing) is None
    assert LinkRule(motion_keep=0.0).cost(walker, standing) is not None  # keep 0: only the other way
    assert LinkRule(motion_keep=0.0).cost(walker, back) is None


def test_another_pace_is_refused_only_with_an_upper_bound():
    walker = _right(200, 10, 0.0, step=2)  # 1.25 sides a second
    fast = _right(250, 8, walker.last_time + 0.3, step=8)  # 4x the pace
    assert motion_kept(walker, fast, 1.0) == pytest.approx(4.0)
    assert MOTION.cost(walker, fast) is not None
    assert LinkRule(motion_keep=0.5, motion_most=2.0).cost(walker, fast) is None


def test_a_still_or_slow_face_and_a_short_later_fragment_are_not_judged():
    swaying = _walk([200 + (i % 3) for i in range(10)], 0.0)  # no direction to keep
    back = _walk([205 - 2 * i for i in range(8)], swaying.last_time + 0.3)
    assert motion_kept(swaying, back, 1.0) is None
    assert MOTION.cost(swaying, back) is not None
    walker = _right(200, 10, 0.0)
    brief = _walk([296 - 4 * i for i in range(MIN_HEAD_OBSERVATIONS - 1)], walker.last_time + 0.4)
    assert MOTION.cost(walker, brief) is not None  # three boxes: not judged


def test_a_person_turning_back_at_the_frame_edge_is_judged_apart():
    leaving = _walk([100, 70, 40, 15, 0, 0, 0, 0], 0.0)  # out by the left edge
    returning = _walk([0, 0, 10, 30, 50, 70, 90, 110], leaving.last_time + 0.6)  # back in by it, moving right
    assert motion_kept(leaving, returning, 1.0) < 0  # the motion reversed
    assert LinkRule().cost(leaving, returning) is not None
    assert MOTION.cost(leaving, returning) is not None  # at the edge the gate does not apply
    assert LinkRule(motion_keep=0.5, motion_at_edge=True).cost(leaving, returning) is None
    # without the frame's size no box is at an edge: the motion is judged
    leaving.frame_shape = returning.frame_shape = None
    assert MOTION.cost(leaving, returning) is None
