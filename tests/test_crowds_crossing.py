"""Crossing crowds: people walk across the frame and pass in front of each other (issue 23).

Real faces from the shared folder (the ``shared_data`` fixture), composed in memory and never
written (:mod:`facesel.eval.crowds_crossing`): the ground truth of where each walker is and how
much of it shows, checked against the detector on the composed frames; the covered link
(``LinkRule.covered_gap_seconds``) end to end on two people, the nearer passing in front of the
farther (:mod:`facesel.eval.crowds_replay`: recorded once, replayed per rule); and a same-place
replacement (the next person at a turnstile) that the covered link must not join.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from facesel.detect import make_detector
from facesel.eval import crowds
from facesel.eval.crowds_crossing import (
    Walker,
    compose_crossing,
    crossings,
    layout_seed,
    walkers_for,
)
from facesel.eval.crowds_replay import crowd_figures, record, replay
from facesel.select.faceness import FacenessRule
from facesel.select.finalise import DOSE_FACE_FLOOR, Finaliser
from facesel.select.linking import LinkRule
from facesel.selector import default_scorer

FRAMES = 150


@pytest.fixture(scope="module")
def detector():
    cv2.setNumThreads(1)
    return make_detector(max_side=1280)


@pytest.fixture(scope="module")
def two_walkers(shared_data):
    """LivePortrait d10 far (150 px wide) walking right, d3 near (260 px) walking left; they meet
    at the middle frame, where the nearer hides the farther whole."""
    more = shared_data / "videos" / "more"
    clips = [crowds.read_tile(more / f"LivePortrait__assets_examples_driving_{n}.mp4", FRAMES, skip=10) for n in ("d10", "d3")]
    return compose_crossing(clips, [Walker(150, 320, 2.5), Walker(260, 320, -2.5)])


def test_walkers_are_deterministic_and_the_nearer_is_drawn_in_front():
    a, b = walkers_for(6, seed=3), walkers_for(6, seed=3)
    assert a == b and len({w.width for w in a}) == 6
    assert {w.speed > 0 for w in a} == {True, False}  # both directions
    assert layout_seed(["x", "y"], 0) != layout_seed(["x", "y"], 1)


def test_ground_truth_of_a_real_crossing(two_walkers, detector):
    frames, truth = two_walkers
    assert len(frames) == FRAMES and frames[0].shape == (360, 640, 3)
    assert truth.order == [0, 1]  # the smaller first: the nearer drawn last
    assert truth.visible[0, 0] == pytest.approx(1.0) and truth.visible[FRAMES // 2, 0] < 0.01
    assert truth.visible[:, 1].min() > 0.99  # nothing is in front of the nearer one
    assert [(a, b) for a, b, _ in crossings(truth)] == [(1, 0)]
    # apart, the detector finds each face on its own walker; at the crossing only the nearer one's
    for t, expected in ((0, {0, 1}), (FRAMES - 1, {0, 1}), (FRAMES // 2, {1})):
        found = {truth.person_at(box, t) for box in detector.detect(frames[t]).boxes}
        assert found == expected, (t, found)
    # a box reaching well past a walker's edge belongs to nobody (strictly), else to the walker under its centre
    _, y1, x2, _ = truth.rects[0, 0]
    straddling = np.array([x2 - 48, y1 + 20, x2 + 32, y1 + 100], np.float32)  # 60 % inside
    assert truth.person_at(straddling, 0) is None and truth.person_at(straddling, 0, strict=False) == 0


def _finaliser(scorer, link):
    return Finaliser.for_scorer(scorer, 0.25, faceness=FacenessRule(min_quality=DOSE_FACE_FLOOR, suppress_static=False),
                                link=link)


def test_a_covered_link_gives_each_of_two_crossing_people_one_snapshot(two_walkers, detector):
    frames, truth = two_walkers
    scorer = default_scorer()
    recording = record(frames, detector, scorer, 25.0, locate=truth.person_at, keep_static=True)
    figures = {}
    for name, rule in (("default", LinkRule()), ("covered", LinkRule(covered_gap_seconds=3.0))):
        fin = _finaliser(scorer, rule)
        delivered = replay(recording, fin)
        figures[name] = crowd_figures(recording, delivered, fin.links, None, truth=truth)
    # hidden about 1.6 s behind the nearer face: the short link (1 s) leaves the farther in pieces
    assert figures["default"]["per_tile"].get(0, 0) >= 2 and figures["default"]["per_tile"].get(1) == 1
    assert figures["covered"]["per_tile"] == {0: 1, 1: 1}
    assert figures["covered"]["wrong_joins"] == 0 and figures["default"]["wrong_joins"] == 0


def test_the_covered_link_does_not_join_a_same_place_replacement(shared_data, detector):
    more = shared_data / "videos" / "more"
    clips = [more / "video-retalking__examples_face_2.mp4", more / "video-retalking__examples_face_4.mp4"]
    scorer = default_scorer()
    rule = LinkRule(covered_gap_seconds=3.0, cover_same=False, cover_reach=4.0)  # the loosest measured
    out = crowds.run_replacements(clips, detector, scorer, link=rule, keep_static=True)
    assert (out["pairs"], out["joined"]) == (1, 0)
