"""Covered links: a face hidden behind a nearer person comes back on the other side (issue 23).

In a crowd the occluder is another person: the front face's track goes on, the hidden face's
track ends under it and a new one starts where the front person uncovers it, often more than the
short link's 1 s later. ``LinkRule(covered_gap_seconds=...)`` lets such a fragment continue the
earlier one up to that gap when a larger track was near both ends (who was in front:
:attr:`facesel.select.evidence.TrackEvidence.cover_tail` / ``cover_head``), under the short
link's colour, size and position gates. Checked here on hand-made track summaries and on the
recorded covers of real frames; the crossing material and the rule end to end:
``tests/test_crowds_crossing.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from evidence_helpers import make_evidence
from facesel.select.evidence import EvidenceBook, covers
from facesel.select.finalise import Finaliser, _Held
from facesel.select.linking import COVERED_LINK_OFFSET, LinkRule
from facesel.types import Detections

_GREY = np.full((2, 64), 1 / 64, np.float32)


def _walking(start: float, x0: float, count: int = 10, speed: float = 100.0, side: float = 40.0, colours=_GREY):
    """A face ``side`` px walking right at ``speed`` px/s from ``x0``, seen ``count`` frames from ``start``."""
    times = [start + i / 25 for i in range(count)]
    boxes = [[x0 + speed * (t - start), 100, x0 + speed * (t - start) + side, 100 + side] for t in times]
    return make_evidence(boxes, times, None if colours is None else [colours] * count)


def _pair(gap: float = 1.8, cover_end=(7, 1.0, 1.6), cover_start=(7, 1.2, 1.6), offset: float = 0.0):
    """A face walking right, hidden ``gap`` s, then seen again where it was heading (plus
    ``offset`` box sides); the covers recorded on its last and first observation."""
    earlier = _walking(0.0, 100.0)
    last = earlier.last_time
    x = 100.0 + 100.0 * (last + gap) + offset * 40.0
    later = _walking(last + gap, x)
    if cover_end is not None:
        earlier._cover(cover_end)
    if cover_start is not None:
        later.cover_head = tuple(cover_start) + (1,)
    return earlier, later


def test_off_by_default_and_validated_naming_the_field():
    assert LinkRule().covered_gap_seconds is None
    for name, bad in (("covered_gap_seconds", -1.0), ("cover_reach", float("nan")), ("cover_size_ratio", 0.9),
                      ("cover_same", 1)):
        with pytest.raises(ValueError, match=name):
            LinkRule(**{name: bad})


def test_a_face_back_from_behind_the_same_larger_track_is_linked_beyond_the_short_gap():
    earlier, later = _pair()
    assert LinkRule().cost(earlier, later) is None  # 1.8 s: beyond the short link, and it moved (no long link)
    rule = LinkRule(covered_gap_seconds=3.0)
    cost = rule.cost(earlier, later)
    assert cost is not None and COVERED_LINK_OFFSET <= cost < COVERED_LINK_OFFSET + 0.5
    assert LinkRule(covered_gap_seconds=1.5).cost(earlier, later) is None  # beyond its gap


@pytest.mark.parametrize("change", ["other track", "no cover at the end", "no cover at the start", "cover too far",
                                    "cover not larger", "off where it was heading", "colours apart"])
def test_each_gate_refuses(change):
    rule = LinkRule(covered_gap_seconds=3.0)
    kwargs = {"other track": {"cover_start": (8, 1.2, 1.6)}, "no cover at the end": {"cover_end": None},
              "no cover at the start": {"cover_start": None}, "cover too far": {"cover_end": (7, 2.5, 1.6)},
              "cover not larger": {"cover_start": (7, 1.2, 1.1)}, "off where it was heading": {"offset": 3.5},
              "colours apart": {}}[change]
    earlier, later = _pair(**kwargs)
    if change == "colours apart":
        other = np.zeros((2, 64), np.float32)
        other[:, 5] = 1.0
        later = _walking(later.first_time, float(later.first_box[0]), colours=other)
        later.cover_head = (7, 1.2, 1.6, 1)
    assert rule.cost(earlier, later) is None
    if change == "other track":  # the track in front is often itself broken while it passes
        assert LinkRule(covered_gap_seconds=3.0, cover_same=False).cost(earlier, later) is not None


def test_a_cover_long_before_the_end_does_not_count():
    earlier, later = _pair(cover_end=None)
    earlier.cover_tail = (7, 1.0, 1.6, 1)  # on its first of 10 observations, not among the last 8
    assert earlier.covered_at_end() is None
    assert LinkRule(covered_gap_seconds=3.0).cost(earlier, later) is None


def test_recorded_covers_are_the_nearest_larger_box_of_another_track():
    boxes = [[100, 100, 140, 140], [150, 90, 214, 154], [600, 100, 680, 180], [90, 95, 135, 140]]
    found = covers(boxes, [1, 2, 3, -1])
    # box 0 (40 px): box 1 (64 px, 1.6x) is 0.97 of its sides away; box 2 (80 px) 6.5: beyond the 5 recorded
    assert found[0][0] == 2 and found[0][2] == pytest.approx(1.6) and found[0][1] == pytest.approx(
        np.hypot(62, 2) / 64)
    assert found[1] is None and found[2] is None  # nothing larger near them
    assert found[3] is not None and found[3][0] == 2  # a box of no track is covered, but covers nobody
    book = EvidenceBook(covers=True)
    dets = Detections(np.array(boxes[:3], np.float32), np.full(3, 0.9, np.float32), None)
    for frame in range(3):
        book.observe_frame([1, 2, 3], dets, frame / 25, frame)
    e = book.get(1)
    assert e.cover_head[0] == 2 and e.cover_head[3] == 1 and e.cover_tail[3] == 3 and e.covered_at_end() is not None
    assert book.get(2).cover_tail is None
    plain = EvidenceBook()  # the default: not recorded (only a rule with covered links asks)
    plain.observe_frame([1, 2, 3], dets, 0.0, 0)
    assert plain.get(1).cover_tail is None
    assert Finaliser(link=LinkRule(covered_gap_seconds=3.0)).records_covers and not Finaliser(link=LinkRule()).records_covers


def test_the_finaliser_holds_a_covered_fragment_for_the_covered_gap():
    earlier, _ = _pair()
    rule = LinkRule(covered_gap_seconds=3.0)
    assert rule.longest_gap == 3.0
    fin = Finaliser(link=rule)
    held = _Held(None, earlier, 0.0)
    assert fin._may_wait_long(held)
    earlier.ended_by = "cut"
    assert not fin._may_wait_long(held)
