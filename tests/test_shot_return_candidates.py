"""The shot-return link's persons26 settings on hand-made evidence (docs/prereg_intercut26.md):
the earliest return preferred over a later one, and small faces without colours."""

from __future__ import annotations

import numpy as np
import pytest

from facesel.select.evidence import TrackEvidence
from facesel.select.shot_return import EARLIEST_WEIGHT, SHOT_RETURN_OFFSET, ShotMemory, ShotReturnRule

A_BOX = (100, 100, 200, 200)
SMALL_BOX = (100, 100, 130, 140)  # 30 x 40 px: under the colour cue's 40 px, so no colours


def _evidence(frames, box, colours=True) -> TrackEvidence:
    e = TrackEvidence()
    hist = np.zeros((2, 64), np.float32)
    hist[0, 5] = hist[1, 0] = 1.0
    for f in frames:
        e.add(np.asarray(box, np.float64), 0.9, None, f / 25.0, f, False)
        if colours:
            e.colour_last(hist)
    return e


def _interview(rule: ShotReturnRule) -> ShotMemory:
    """A | B | A | B | A: cuts at frames 50, 100, 150, 200 between shot A (grey 100) and B (grey 30)."""
    memory = ShotMemory(rule)
    for k, frame in enumerate((50, 100, 150, 200)):
        a, b = np.full((27, 48), 100, np.float32), np.full((27, 48), 30, np.float32)
        memory.record(frame, frame / 25.0, *((a, b) if k % 2 == 0 else (b, a)))
    return memory


def test_the_earliest_return_wins_over_a_later_one_nearer_in_place():
    a1 = _evidence(range(0, 50), A_BOX)
    a2 = _evidence(range(100, 150), (103, 100, 203, 200))  # the first return, 0.03 box sides away
    a3 = _evidence(range(200, 250), A_BOX)  # the second return, at the very place
    before = _interview(ShotReturnRule(prefer_earliest=False))  # the rule before persons26
    assert before.cost(a1, a3) < before.cost(a1, a2)  # the nearest place wins: the first return is skipped
    earliest = _interview(ShotReturnRule())  # the default since persons26
    assert earliest.rule.prefer_earliest
    assert earliest.cost(a1, a2) < earliest.cost(a1, a3)
    assert earliest.cost(a1, a2) == pytest.approx(SHOT_RETURN_OFFSET + EARLIEST_WEIGHT * (100 - 49) / 25 + 0.03)
    # the gates are today's: another place is still refused
    assert earliest.cost(a1, _evidence(range(100, 150), (300, 100, 400, 200))) is None


def test_small_faces_without_colours_are_linked_only_with_the_setting_now_on():
    s1, s2 = _evidence(range(0, 50), SMALL_BOX, colours=False), _evidence(range(100, 150), SMALL_BOX, colours=False)
    assert _interview(ShotReturnRule(small_without_colours=False)).cost(s1, s2) is None  # before: never without colours
    assert _interview(ShotReturnRule()).cost(s1, s2) is not None  # the default since persons26
    # a large face without colours (colours missing for another reason, e.g. a crowd) still never
    big1, big2 = _evidence(range(0, 50), A_BOX, colours=False), _evidence(range(100, 150), A_BOX, colours=False)
    assert _interview(ShotReturnRule(small_without_colours=True)).cost(big1, big2) is None
    # one end with colours, the other small without: refused (no colours to compare)
    assert _interview(ShotReturnRule(small_without_colours=True)).cost(
        _evidence(range(0, 50), SMALL_BOX), s2) is None


def test_the_settings_must_be_flags():
    for name in ("prefer_earliest", "small_without_colours"):
        with pytest.raises(TypeError, match=name):
            ShotReturnRule(**{name: "yes"})


def test_a_real_interview_keeps_the_first_return_by_default(shared_data):
    # signers eat | hungry cut A | B | A | B | A | B (2 s shots): today the link joins B1 to B3 and
    # B2 keeps a snapshot of its own (3 snapshots, docs/persons.md, persons26); the first return
    # preferred gives one snapshot each, with no wrong join
    import cv2

    from facesel.config import PipelineConfig
    from facesel.eval import intercut
    from facesel.scoring import LaplacianVarianceScorer
    from facesel.selector import default_detector

    from facesel.eval.crowds import families

    cv2.setNumThreads(1)
    paths = families(shared_data)["signers"]
    people = [next(p for p in paths if p.stem.endswith(f"_{word}")) for word in ("eat", "hungry")]
    # the interview as intercut.material makes it (150 frames of each person, 6 shots of 50)
    frames, owner = intercut.shots_of([intercut.read_person(p, 150) for p in people], intercut.interview_order(6), 50)
    run = intercut.run_intercut(frames, owner, 25.0, default_detector(PipelineConfig()), LaplacianVarianceScorer())
    # (the default pipeline: ShotReturnRule.prefer_earliest is on since persons26)
    assert run["per_person"] == {0: 1, 1: 1} and run["wrong_joins"] == 0
    assert len(run["shot_returns"]) == 4  # A1-A2, A2-A3, B1-B2, B2-B3
