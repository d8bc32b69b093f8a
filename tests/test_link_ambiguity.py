"""The short link's ambiguity test (issue 23, session 23; off by default, docs/persons.md "The short
link's ambiguity test").

A short link is not made when another track is a comparably plausible partner (a ratio test as in
feature matching: ``LinkRule.ambiguity_ratio``, ``ambiguity_sides``). Hand-made summaries: the
position, time, size and colour terms are the short link's own, so the test is exact here.
"""

from __future__ import annotations

import pytest
from evidence_helpers import make_evidence
from facesel.select.link_ambiguity import ambiguous, competitor_costs
from facesel.select.linking import LinkRule
from test_relink_lone import _colours

LATER = LinkRule(ambiguity_ratio=0.5)
BOTH = LinkRule(ambiguity_ratio=0.5, ambiguity_sides="both")


def _still(x, start, count=10, side=60, colours=None):
    """A face of ``side`` px standing at ``x`` (y 100) for ``count`` frames from ``start`` s (25 fps)."""
    colours = _colours(0.0) if colours is None else colours
    return make_evidence([[x, 100, x + side, 100 + side]] * count, [start + i / 25 for i in range(count)],
                         [colours] * count)


def test_off_by_default_and_validated_naming_the_field():
    assert LinkRule().ambiguity_ratio is None and LinkRule().ambiguity_sides == "later"
    for bad in (0, -0.5, 1.5, float("nan"), True, "0.5"):
        with pytest.raises(ValueError, match="ambiguity_ratio"):
            LinkRule(ambiguity_ratio=bad)
    with pytest.raises(ValueError, match="ambiguity_sides"):
        LinkRule(ambiguity_sides="earlier")


def test_a_later_face_two_lost_faces_could_continue_is_kept_apart():
    a = _still(100, 0.0)  # lost at x 100 at 0.36 s
    e = _still(124, 0.1)  # another face lost at x 124 at 0.46 s
    b = _still(112, 0.8)  # a face appears between the two places
    assert LinkRule().cost(a, b, [e, b]) == pytest.approx(0.2)  # the default takes it
    assert LinkRule().cost(e, b) == pytest.approx(0.2)  # and the other lost face is as near
    assert list(competitor_costs(LATER, a, b, [a, e, b])) == [pytest.approx(0.2)]
    assert LATER.cost(a, b, [a, e, b]) is None
    # without the competitor, or with it clearly further (ratio 0.5: over twice the distance), linked
    assert LATER.cost(a, b, [a, b]) == pytest.approx(0.2)
    far = _still(160, 0.1)  # 0.8 sides from b's place
    assert LATER.cost(a, b, [far, b]) == pytest.approx(0.2)
    # at ratio 0.8 (Lowe's) the competitor must be within 1.25x: 0.8 sides is not
    assert LinkRule(ambiguity_ratio=0.8).cost(a, b, [far, b]) == pytest.approx(0.2)
    assert LinkRule(ambiguity_ratio=0.2).cost(a, b, [far, b]) is None  # within 5x


def test_only_short_link_partners_compete():
    a = _still(100, 0.0)
    b = _still(112, 1.8)  # 1.4 s after a: a long link at most
    b_near = _still(112, 0.8)
    old = _still(112, -1.0)  # lost 1.44 s before b_near starts: only a long link could take it up
    assert LATER.cost(a, b_near, [old, b_near]) == pytest.approx(0.2)
    other_colours = _still(112, 0.1, colours=_colours(0.9))  # colours too far apart for the link's gate
    assert LinkRule().cost(other_colours, b_near) is None
    assert LATER.cost(a, b_near, [other_colours, b_near]) == pytest.approx(0.2)
    # a long link is never tested (it asks whether anyone else was near itself)
    e = _still(124, 1.0)
    assert LATER.cost(a, b, [e, b]) == LinkRule().cost(a, b, [e, b])


def test_both_sides_also_asks_for_a_second_successor():
    a = _still(100, 0.0)
    b = _still(112, 0.8)
    b2 = _still(88, 0.8)  # a second face as near on the other side
    assert LATER.cost(a, b, [a, b, b2]) == pytest.approx(0.2)  # no other predecessor for b
    assert BOTH.cost(a, b, [a, b, b2]) is None
    assert ambiguous(BOTH, a, b, 0.2, [b2]) and not ambiguous(LATER, a, b, 0.2, [b2])


def test_a_fragment_lying_between_is_still_absorbed_into_the_chain():
    # earlier -> later passes, and the short fragment between them would continue earlier
    a = _still(100, 0.0)
    skipped = _still(104, 0.44, count=3)
    b = _still(106, 0.64)
    assert LATER.absorbs(a, skipped, b, [a, skipped, b]) == LinkRule().absorbs(a, skipped, b, [a, skipped, b]) is True


def test_exclusive_competitors_are_only_those_seen_during_the_partner_they_would_replace():
    exclusive = LinkRule(ambiguity_ratio=0.5, ambiguity_sides="both", ambiguity_exclusive=True)
    a = _still(100, 0.2, count=5)  # seen 0.20-0.36 s
    b = _still(112, 0.8, count=5)  # seen 0.80-0.96 s
    before = _still(124, 0.0, count=4)  # ended (0.12 s) before a began: may be a's own earlier piece
    beside = _still(124, 0.1, count=8)  # seen 0.10-0.38 s, during a: someone else at once
    after = _still(88, 1.0, count=5)  # starts after b ended: may be b's own next piece
    assert LinkRule().cost(before, b) is not None and LinkRule().cost(a, after) is not None
    assert BOTH.cost(a, b, [before, b]) is None and BOTH.cost(a, b, [after, b]) is None
    assert exclusive.cost(a, b, [before, after, b]) == pytest.approx(0.2)
    assert exclusive.cost(a, b, [beside, b]) is None
    with pytest.raises(ValueError, match="ambiguity_exclusive"):
        LinkRule(ambiguity_exclusive=1)


def test_the_pipeline_setting_is_off_by_default_and_reaches_the_finaliser():
    from facesel.config import PipelineConfig
    from facesel.scoring import LaplacianVarianceScorer
    from facesel.select.finalise import Finaliser

    scorer = LaplacianVarianceScorer()
    assert PipelineConfig().link_ambiguity == 0.0
    assert Finaliser.for_config(PipelineConfig(), scorer).link == LinkRule()
    on = Finaliser.for_config(PipelineConfig(link_ambiguity=0.7), scorer).link
    assert on == LinkRule(ambiguity_ratio=0.7, ambiguity_sides="both", ambiguity_exclusive=True)
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="link_ambiguity"):
            PipelineConfig(link_ambiguity=bad)
