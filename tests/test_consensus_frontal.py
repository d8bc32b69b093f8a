"""The reference of session 16's pre-registered family (``experiments/consensus_frontal.py``), on
hand-made tracks: which crops make the reference and how a crop is compared with them.

The family was a measured near miss held out (docs/model_card.md, "The consensus against the
frontal crops"); these tests pin what its candidates compute so that the figures can be rerun and
trusted.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "experiments"))
from consensus_frontal import CANDIDATES, NO_POSE_COST, agreements, pose_cost, reference_rows  # noqa: E402

from facesel.scoring.gate import PITCH_UPRIGHT  # noqa: E402


def unit_rows(m: np.ndarray) -> np.ndarray:
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def test_family_is_the_pre_registered_twenty_with_the_default_first():
    assert len(CANDIDATES) == 20 and len(set(CANDIDATES)) == 20
    assert CANDIDATES[0] == ("admitted", "pool", "median")


def test_pose_cost_is_zero_upright_and_large_without_landmarks():
    cost = pose_cost(np.array([0.0, 0.1, np.nan]), np.array([0.0, 0.0, 0.0]), np.array([PITCH_UPRIGHT, PITCH_UPRIGHT, 0.0]))
    assert cost[0] == 0.0
    assert cost[1] == pytest.approx(0.01)
    assert cost[2] == NO_POSE_COST


def test_subsets_take_the_pools_best_by_screen_or_pose():
    n = 12
    pool = np.ones(n, bool)
    pool[[0, 1]] = False  # never in the reference, however good
    screen = np.arange(n, dtype=float)  # later crops rank higher
    cost = np.arange(n, dtype=float)[::-1].copy()  # ... and are more frontal
    frontal = np.zeros(n, bool)
    frontal[[0, 3, 5, 7, 11]] = True
    assert reference_rows(pool, "pool", screen, frontal, cost).tolist() == list(range(2, 12))
    assert reference_rows(pool, "screen half", screen, frontal, cost).tolist() == [7, 8, 9, 10, 11]
    assert reference_rows(pool, "screen quarter", screen, frontal, cost).tolist() == [9, 10, 11]  # ceil(10/4) = 3
    assert reference_rows(pool, "frontal third", screen, frontal, cost).tolist() == [8, 9, 10, 11]  # ceil(10/3) = 4
    assert reference_rows(pool, "frontal", screen, frontal, cost).tolist() == [3, 5, 7, 11]  # crop 0 is not in the pool


def test_too_few_frontal_crops_fall_back_to_the_three_most_frontal():
    n = 8
    pool = np.ones(n, bool)
    frontal = np.zeros(n, bool)
    frontal[6] = True
    cost = np.array([5.0, 0.1, 4.0, 0.2, 3.0, 0.3, 9.0, 2.0])
    assert reference_rows(pool, "frontal", np.zeros(n), frontal, cost).tolist() == [1, 3, 5]
    # a pool of three or fewer is used whole
    small = np.zeros(n, bool)
    small[[2, 4]] = True
    assert reference_rows(small, "frontal", np.zeros(n), frontal, cost).tolist() == [2, 4]


def test_median_agreement_prefers_the_crop_like_the_reference_crops():
    rng = np.random.default_rng(1)
    look = rng.normal(size=64)
    turned = rng.normal(size=64)
    # crops 0-5: the person's frontal look with noise; 6-9: turned away
    sigs = unit_rows(np.vstack([look + 0.3 * rng.normal(size=(6, 64)), turned + 0.3 * rng.normal(size=(4, 64))]))
    frontal_ref = agreements(sigs, np.arange(6), "median")
    assert frontal_ref[:6].min() > frontal_ref[6:].max()
    turned_ref = agreements(sigs, np.arange(6, 10), "median")
    assert turned_ref[6:].min() > turned_ref[:6].max()


def test_medoid_ignores_a_crops_own_vote():
    rng = np.random.default_rng(2)
    sigs = unit_rows(rng.normal(size=(5, 32)))
    rows = np.array([0, 1, 2])
    got = agreements(sigs, rows, "medoid")
    cos = sigs @ sigs[rows].T
    assert got[0] == pytest.approx(np.median(cos[0, [1, 2]]))  # not counting its cosine 1 with itself
    assert got[4] == pytest.approx(np.median(cos[4]))  # not a reference crop: all three count
    # a crop that is the reference's only member is compared with itself (nothing else is there)
    assert agreements(sigs, np.array([3]), "medoid")[3] == pytest.approx(1.0)


def test_unknown_names_are_refused():
    with pytest.raises(ValueError, match="subset"):
        reference_rows(np.ones(5, bool), "profile", np.zeros(5), np.zeros(5, bool), np.zeros(5))
    with pytest.raises(ValueError, match="agreement"):
        agreements(np.eye(3), np.arange(3), "mean")
