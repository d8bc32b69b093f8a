"""Session 20's mode-seeking consensus reference (``experiments/pick_consensus_mode.py``), on hand-made rows.

A measured negative result held out (docs/model_card.md, "The consensus against the track's most
common look"); these tests pin what the reference computes so that the figures can be rerun and
trusted: no step is the default's median, each step moves towards the look most rows share, and
a short track keeps at least three rows.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "experiments"))
from pick_consensus_mode import CANDIDATES, MIN_KEPT, MODES, mode_reference  # noqa: E402


def unit_rows(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def looks(rng: np.random.Generator, counts: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(sum(counts), 8) unit rows around len(counts) looks (look k strong in coordinate k, counts[k]
    rows of it), and the unit first look (8,)."""
    centres = [np.eye(8)[k] * 3 + 0.5 for k in range(len(counts))]
    rows = np.vstack([c + rng.normal(0, 0.3, (n, 8)) for c, n in zip(centres, counts)])
    return unit_rows(np.abs(rows)), centres[0] / np.linalg.norm(centres[0])


def test_no_step_is_the_default_median_reference():
    rows, _ = looks(np.random.default_rng(0), (20, 9))
    median = np.median(rows, axis=0)
    np.testing.assert_allclose(mode_reference(rows, 0.5, 0), median / np.linalg.norm(median), atol=1e-12)


def test_steps_move_the_reference_from_the_blend_to_the_look_most_rows_share():
    # the first look has 12 of 30 rows, three others 6 each: in its own coordinate 18 rows are low,
    # so the per-coordinate median is a blend of the four looks; the mode finds the first
    rows, main = looks(np.random.default_rng(1), (12, 6, 6, 6))
    for fraction in (0.5, 0.25):
        closeness = [float(mode_reference(rows, fraction, steps) @ main) for steps in (0, 1, 3)]
        assert closeness[0] < 0.85 and min(closeness[1:]) > 0.98, closeness
        for steps in (0, 1, 3):
            assert abs(float(np.linalg.norm(mode_reference(rows, fraction, steps))) - 1.0) < 1e-12


def test_a_short_track_keeps_at_least_three_rows():
    rows, _ = looks(np.random.default_rng(2), (3, 2))
    ref0 = mode_reference(rows, 0.25, 0)
    best3 = rows[np.argsort(-(rows @ ref0))[:MIN_KEPT]]  # a quarter of 5 rows is 2: 3 are kept
    expected = np.median(best3, axis=0)
    np.testing.assert_allclose(mode_reference(rows, 0.25, 1), expected / np.linalg.norm(expected), atol=1e-12)
    two = rows[:2]  # fewer rows than the minimum: all of them, so the median again
    np.testing.assert_allclose(mode_reference(two, 0.25, 3), mode_reference(two, 0.25, 0), atol=1e-12)


def test_the_family_is_the_registered_one():
    assert CANDIDATES[0] == ("A",) and [c[0] for c in CANDIDATES[1:]] == list(MODES)
    assert sorted(MODES.values()) == [(0.25, 1), (0.25, 3), (0.5, 1), (0.5, 3)]
