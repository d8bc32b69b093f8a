"""The shipped scorer's cheap screen (the protocol of facesel.scoring.screen_crops) ranks crops
like its full score, for a fraction of the time: what the sparse mode's finalists rely on."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest
from facesel.scoring import default_scorer, screen_crops
from scipy.stats import spearmanr


@pytest.fixture(scope="module")
def crops(shared_data):
    """40 ORL faces as 64x64 grey, each also blurred twice as hard: a spread of qualities."""
    faces = []
    for i in range(1, 41):
        image = cv2.imread(str(shared_data / "faces" / "orl" / f"s{i}" / "1.pgm"), cv2.IMREAD_GRAYSCALE)
        face = cv2.resize(image, (64, 64), interpolation=cv2.INTER_AREA)
        faces += [face, cv2.GaussianBlur(face, (0, 0), 1.0), cv2.GaussianBlur(face, (0, 0), 2.0)]
    return np.stack(faces)


@pytest.mark.slow
def test_screen_ranks_like_the_full_score_and_costs_less(crops):
    scorer = default_scorer()
    scorer.score(crops[:2])  # first-call set-up is not the cost
    start = time.process_time()
    full = scorer.score(crops)
    full_cpu = time.process_time() - start
    start = time.process_time()
    screen = screen_crops(scorer, crops)
    screen_cpu = time.process_time() - start
    assert screen.shape == full.shape == (len(crops),) and screen.dtype == np.float64
    assert spearmanr(screen, full).correlation >= 0.95
    assert screen_cpu < full_cpu / 3  # one decoder pass instead of ten (a ratio within one run)


def test_a_scorer_without_screen_has_none():
    class Plain:
        def score(self, crops):
            return np.zeros(len(crops))

    assert screen_crops(Plain(), np.zeros((2, 64, 64), np.uint8)) is None
