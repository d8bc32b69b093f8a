"""The link veto: facts about where boxes are that refuse a re-link whatever its cost (issue 23).

On the crossing crowds (:mod:`facesel.eval.crowds_crossing`) the default short link joined two
people: a walker leaves by the frame's edge, or goes behind a nearer one, and another walker
appears within a second where the first was heading. ``LinkRule(veto=...)`` refuses such a link
from box positions, the frame's size and which larger track was in front at each end
(docs/persons.md "The link veto"). Checked here on hand-made track summaries and, end to end,
on a real crossing crowd.
"""

from __future__ import annotations

import numpy as np
import pytest
from evidence_helpers import make_evidence
from facesel.select.link_explain import explain, explain_long
from facesel.select.linking import LinkRule, left_by_edge

_GREY = np.full((2, 64), 1 / 64, np.float32)
_FRAME = (360, 640)


def _walking(start: float, x0: float, count: int = 10, speed: float = 100.0, side: float = 40.0,
             frame_shape=_FRAME):
    """A face ``side`` px walking at ``speed`` px/s (negative: left) from ``x0``, seen ``count`` frames from ``start``."""
    times = [start + i / 25 for i in range(count)]
    boxes = [[x0 + speed * (t - start), 100, x0 + speed * (t - start) + side, 100 + side] for t in times]
    evidence = make_evidence(boxes, times, [_GREY] * count)
    evidence.frame_shape = frame_shape
    return evidence


def _at_the_right_edge(later_x: float, gap: float = 0.5):
    """A face walking right whose last box touches the right border (640 px), and a later one
    starting ``gap`` s after at ``later_x``, walking left (into the frame)."""
    earlier = _walking(0.0, 640.0 - 40.0 - 0.36 * 100.0)  # its last box ends at 640
    later = _walking(earlier.last_time + gap, later_x, speed=-100.0)
    return earlier, later


def test_off_by_default_and_validated_naming_the_field():
    assert LinkRule().veto == ()
    for name, bad in (("veto", ("edge", "nose")), ("veto", "edge"), ("veto_edge_margin", 0.5), ("veto_edge_margin", float("nan"))):
        with pytest.raises(ValueError, match=name):
            LinkRule(**{name: bad})


def test_a_face_that_left_by_the_edge_is_not_continued_by_one_inside_the_frame():
    # another walker appears just inside the frame, near where the first was heading: the gates pass
    earlier, later = _at_the_right_edge(later_x=585.0)
    assert earlier.last_box[2] == pytest.approx(640.0)
    assert LinkRule().cost(earlier, later) is not None
    assert left_by_edge(earlier, later, 0.02) == "right"
    rule = LinkRule(veto=("edge",))
    assert rule.cost(earlier, later) is None
    assert rule.vetoed(earlier, later) == "edge"
    assert "veto edge" in explain(rule, earlier, later)["refused"]


def test_the_edge_veto_lets_through_what_it_cannot_tell_apart():
    rule = LinkRule(veto=("edge",))
    # back at the same border (coming back into the frame, or someone else there): not refused
    earlier, later = _at_the_right_edge(later_x=600.0)
    assert rule.vetoed(earlier, later) is None and rule.cost(earlier, later) is not None
    # at the border but moving into the frame: not refused
    inward = _walking(0.0, 600.0 + 0.36 * 5.0, speed=-5.0)  # its last box ends at 640, moving left
    assert inward.last_box[2] == pytest.approx(640.0)
    later = _walking(inward.last_time + 0.3, 560.0, speed=-5.0)
    assert rule.vetoed(inward, later) is None
    # the same slowly out of the frame: refused
    outward = _walking(0.0, 600.0 - 0.36 * 5.0, speed=5.0)
    assert rule.vetoed(outward, later) == "edge"
    # away from every border: never
    earlier, later = _walking(0.0, 300.0), _walking(0.8, 390.0)
    assert rule.vetoed(earlier, later) is None and rule.cost(earlier, later) is not None
    # the frame's size unknown: never
    earlier, later = _at_the_right_edge(later_x=585.0)
    earlier.frame_shape = None
    assert rule.vetoed(earlier, later) is None


@pytest.mark.parametrize("veto", [("cover_other",), ("cover_none",)])
def test_a_face_that_went_behind_one_track_is_not_continued_by_one_uncovered(veto):
    earlier, later = _walking(0.0, 300.0), _walking(0.8, 390.0)
    earlier._cover((7, 1.0, 1.6))
    rule = LinkRule(veto=veto)
    assert LinkRule().cost(earlier, later) is not None
    assert rule.vetoed(earlier, later) == veto[0] and rule.cost(earlier, later) is None
    later.cover_head = (7, 1.2, 1.6, 1)  # out from behind the same track: linked
    assert rule.vetoed(earlier, later) is None and rule.cost(earlier, later) is not None
    later.cover_head = (8, 1.2, 1.6, 1)  # from behind another track: only cover_other refuses
    assert (rule.vetoed(earlier, later) is not None) == (veto == ("cover_other",))
    earlier.cover_tail = None  # not covered at its end: nothing to veto
    later.cover_head = None
    assert rule.vetoed(earlier, later) is None


def test_the_veto_refuses_long_links_too():
    # a face standing at the right border, gone after stepping out, and 2 s later a face just
    # inside at the same place: the long link's gates pass, the edge veto refuses
    earlier = _walking(0.0, 600.0, speed=0.0)
    earlier.add([605, 100, 645, 140], 0.9, None, earlier.last_time + 0.04, earlier.last_frame + 1, False)
    later = _walking(earlier.last_time + 2.0, 575.0, speed=0.0)
    cost = LinkRule().cost(earlier, later)
    assert cost is not None and cost >= 1000.0  # a long link (LONG_LINK_OFFSET)
    rule = LinkRule(veto=("edge",))
    assert rule.vetoed(earlier, later) == "edge"
    assert rule.cost(earlier, later) is None
    assert "veto edge" in explain_long(rule, earlier, later)["refused"]
    assert explain_long(LinkRule(), earlier, later)["refused"] == []


def test_reversed_direction_refuses_a_walker_coming_the_other_way():
    rule = LinkRule(veto=("reversed",))
    earlier = _walking(0.0, 300.0, speed=-80.0)  # walking left, 2 sides a second
    towards = _walking(0.5, 230.0, speed=110.0)  # someone walking right, where it was heading
    assert LinkRule().cost(earlier, towards) is not None
    assert rule.vetoed(earlier, towards) == "reversed" and rule.cost(earlier, towards) is None
    onwards = _walking(0.5, 230.0, speed=-80.0)  # the same direction: linked
    assert rule.vetoed(earlier, onwards) is None and rule.cost(earlier, onwards) is not None
    still = _walking(0.5, 255.0, speed=10.0)  # a later face that barely moves (a head turn, a jitter): linked
    assert rule.vetoed(earlier, still) is None


def test_real_crossing_crowd_the_veto_removes_the_wrong_join(shared_data):
    """The first LivePortrait crossing crowd, walk 0 (``experiments/link_veto_loso.py``): the
    default joins a walker who went behind a nearer one in the middle of the frame to another
    walker who came in by the left edge 0.6 s later; the edge vetoes refuse that link, and every
    link between fragments of one walker is still made."""
    import cv2
    from facesel.detect import make_detector
    from facesel.eval import crowds
    from facesel.eval.crowds_crossing import crossing_crowd
    from facesel.eval.crowds_replay import crowd_figures, record, replay
    from facesel.select.faceness import FacenessRule
    from facesel.select.finalise import DOSE_FACE_FLOOR, Finaliser
    from facesel.selector import default_scorer

    cv2.setNumThreads(1)
    clips = next(g for f, g in crowds.crowds_of(crowds.families(shared_data), 6) if f == "liveportrait")
    frames, truth = crossing_crowd(clips, 200, layout=0)
    scorer = default_scorer()
    recording = record(frames, make_detector(max_side=1280), scorer, 25.0, locate=truth.person_at, keep_static=True)
    figures, links = {}, {}
    for name, rule in (("default", LinkRule()), ("veto", LinkRule(veto=("edge", "entered")))):
        fin = Finaliser.for_scorer(scorer, 0.25, faceness=FacenessRule(min_quality=DOSE_FACE_FLOOR, suppress_static=False),
                                   link=rule)
        delivered = replay(recording, fin)
        figures[name] = crowd_figures(recording, delivered, fin.links, None, truth=truth)
        links[name] = {(a, b) for a, b in fin.links
                       if recording.tiles_of.get(int(a)) and recording.tiles_of.get(int(a)) == recording.tiles_of.get(int(b))}
    assert figures["default"]["wrong_joins"] >= 1
    assert figures["veto"]["wrong_joins"] < figures["default"]["wrong_joins"]
    assert links["default"] <= links["veto"]  # every link within one walker is still made
    assert set(figures["veto"]["tracked_tiles"]) == set(figures["default"]["tracked_tiles"])
