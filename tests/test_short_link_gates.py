"""The short link's two extra gates (issue 23; off by default, docs/persons.md "The short link's wrong joins").

The default short link (gap up to 1 s, colours within 0.5) joined two people on the crossing crowds
and at the frame's edge. ``LinkRule.behind_distance`` refuses a later fragment that starts behind
where the earlier one, moving, was last seen; ``LinkRule.edge_short_colour_distance`` asks a short
link across the frame's edge for closer colours. Real data from the shared folder (the
``shared_data`` fixture; made in memory, never written); the gates also on hand-made summaries.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from evidence_helpers import make_evidence
from facesel.detect import make_detector
from facesel.eval import crowds
from facesel.eval import edge_return as er
from facesel.eval.crowds_replay import record, replay
from facesel.scoring import LaplacianVarianceScorer
from facesel.select.finalise import Finaliser
from facesel.select.linking import LinkRule
from facesel.select.short_gates import at_edge, behind
from test_relink_lone import _colours

SHAPE = (480, 640)
EDGE_SHORT = LinkRule(edge_short_colour_distance=0.3)
BEHIND = LinkRule(behind_distance=0.5)


def _walk(xs, start, colours=None, y=100, side=60):
    """A face of ``side`` px at heights ``y`` whose box starts at each of ``xs`` (one per frame, 25 fps)."""
    colours = _colours(0.0) if colours is None else colours
    e = make_evidence([[x, y, x + side, y + side] for x in xs], [start + i / 25 for i in range(len(xs))],
                      [colours] * len(xs))
    e.frame_shape = SHAPE
    return e


def test_the_gates_are_off_by_default_and_validated_naming_the_field():
    assert LinkRule().behind_distance is None and LinkRule().edge_short_colour_distance is None
    for name in ("behind_distance", "edge_short_colour_distance"):
        for bad in (-0.1, float("nan"), True, "0.3"):
            with pytest.raises(ValueError, match=name):
                LinkRule(**{name: bad})


def test_a_face_found_behind_where_a_walker_went_out_of_sight_is_refused_only_by_the_behind_gate():
    walker = _walk([200 + 6 * i for i in range(10)], 0.0)  # 150 px/s to the right: 2.5 sides a second
    start = walker.last_time + 0.4
    back = _walk([180 + 4 * i for i in range(8)], start)  # 1.4 sides behind its last place
    ahead = _walk([300 + 4 * i for i in range(8)], start)  # where it was heading
    assert behind(walker, back, 0.5) == pytest.approx((254 + 30 - 210) / 60, abs=0.05)
    assert behind(walker, ahead, 0.5) < 0
    assert LinkRule().cost(walker, back) is not None  # the default takes it (near where last seen)
    assert BEHIND.cost(walker, back) is None
    assert BEHIND.cost(walker, ahead) is not None
    # a face that barely moved has no "behind": the gate does not apply
    still = _walk([200 + (i % 2) for i in range(10)], 0.0)
    assert behind(still, back, 0.5) is None
    assert BEHIND.cost(still, _walk([185 + i for i in range(8)], still.last_time + 0.4)) is not None


def test_a_short_link_across_the_frame_edge_asks_for_closer_colours():
    leaving = _walk([120, 90, 60, 30, 10, 0, 0, 0], 0.0)  # out by the left edge
    entering = _walk([0, 0, 10, 30, 60, 90], leaving.last_time + 0.8, _colours(0.4))
    assert at_edge(leaving, entering, 8, 0.05)  # its last boxes touch the border, moving to it
    assert LinkRule().cost(leaving, entering) is not None  # colours 0.4: within the short link's 0.5
    assert EDGE_SHORT.cost(leaving, entering) is None
    assert EDGE_SHORT.cost(leaving, _walk([0, 0, 10, 30, 60, 90], leaving.last_time + 0.8, _colours(0.2))) is not None
    # away from every edge the short link's own limit stands
    inside = _walk([300 + 3 * i for i in range(8)], 0.0)
    later = _walk([330 + 3 * i for i in range(8)], inside.last_time + 0.4, _colours(0.4))
    assert not at_edge(inside, later, 8, 0.05)
    assert EDGE_SHORT.cost(inside, later) is not None
    # without the frame's size nothing is at an edge
    leaving.frame_shape = entering.frame_shape = None
    assert EDGE_SHORT.cost(leaving, entering) is not None


def _signer(detector, name):
    total = 2 * er.HOLD + 2 * er.PAN + 5
    more = _signer.root / "videos" / "more"
    frames = crowds.read_tile(more / f"sample-videos__asl_gestures_{name}.mkv", total + 20, skip=10)
    return er.first_face(detector, [cv2.resize(f, (640, 480)) for f in frames])


def test_the_next_signer_entering_by_the_same_edge_within_a_second_is_kept_apart_by_the_edge_gate(shared_data):
    """Signer 'bird' leaves by the right edge; 0.8 s later signer 'eat' (another person, the same
    framing) comes in by it. The default short link joins them (colours 0.44, within its 0.5);
    the edge gate at 0.3 keeps them apart, and still joins 'bird' coming back by that edge."""
    _signer.root = shared_data
    detector, scorer = make_detector(max_side=1280), LaplacianVarianceScorer()
    a, b = _signer(detector, "bird"), _signer(detector, "eat")
    nxt = er.edge_clip(a[0], a[1], "right", 5, b[0], b[1])
    back = er.edge_clip(a[0], a[1], "right", 5)

    def people(clip, rule):
        recording = record(clip.frames, detector, scorer, 25.0, None, keep_static=True)
        return [set(clip.owner[np.asarray(r.frame_indices)].tolist())
                for r in replay(recording, Finaliser.for_scorer(scorer, link=rule))]

    assert sum(len(p) > 1 for p in people(nxt, LinkRule())) == 1  # the default's wrong join
    assert sum(len(p) > 1 for p in people(nxt, EDGE_SHORT)) == 0
    returned = people(back, EDGE_SHORT)
    assert sum(0 in p for p in returned) == sum(0 in p for p in people(back, LinkRule())) == 1
