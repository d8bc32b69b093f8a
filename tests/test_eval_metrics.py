"""The ERC/EDC metric code against small hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest
from facesel.eval import metrics


def test_step_curve_of_four_comparisons_by_hand():
    # Qualities 1..4; errors at qualities 1 and 3. Discarding 0, 1, 2, 3 comparisons leaves
    # error rates 2/4, 1/3, 1/2, 0/1.
    curve = metrics.error_vs_discard([1.0, 2.0, 3.0, 4.0], [True, False, True, False])
    np.testing.assert_allclose(curve.discard, [0.0, 0.25, 0.5, 0.75])
    np.testing.assert_allclose(curve.error, [0.5, 1 / 3, 0.5, 0.0])
    # pAUC to 0.3: 0.25 * 0.5 + 0.05 * 1/3.
    assert curve.pauc(0.3) == pytest.approx(0.25 * 0.5 + 0.05 / 3)
    assert curve.pauc(0.2) == pytest.approx(0.2 * 0.5)
    np.testing.assert_allclose(curve.at([0.0, 0.24, 0.25, 0.6, 0.9]), [0.5, 0.5, 1 / 3, 0.5, 0.0])


def test_input_order_does_not_matter():
    rng = np.random.default_rng(3)
    q = rng.integers(0, 5, 50).astype(float)  # many ties
    err = rng.random(50) < 0.3
    perm = rng.permutation(50)
    a, b = metrics.error_vs_discard(q, err), metrics.error_vs_discard(q[perm], err[perm])
    np.testing.assert_array_equal(a.discard, b.discard)
    np.testing.assert_array_equal(a.error, b.error)


def test_known_step_curve_pauc():
    # Errors only at the 10 lowest of 100 distinct qualities: the curve falls by steps of 1/(100-k)
    # until it reaches 0 at 10% discarded, then stays 0.
    q = np.arange(100.0)
    err = q < 10
    curve = metrics.error_vs_discard(q, err)
    expected = sum((10 - k) / (100 - k) * 0.01 for k in range(10))
    assert curve.pauc(0.2) == pytest.approx(expected)
    assert curve.pauc(0.3) == pytest.approx(expected)  # nothing added after 10%


def test_perfect_quality_gives_the_ideal_curve():
    rng = np.random.default_rng(0)
    distance = rng.normal(0.5, 0.1, 300)
    threshold = metrics.fnmr_threshold(distance, 0.05)
    err = distance > threshold
    ideal = metrics.error_vs_discard(-distance, err)
    perfect = metrics.error_vs_discard(-np.exp(distance), err)  # any decreasing map of the distance
    grid = np.linspace(0, 0.5, 51)
    np.testing.assert_array_equal(perfect.at(grid), ideal.at(grid))
    # The ideal curve reaches zero once the initial errors are discarded.
    assert ideal.at([err.mean()])[0] == 0.0
    assert metrics.gain(perfect.pauc(0.2), err.mean() * 0.2, ideal.pauc(0.2)) == pytest.approx(1.0)


def test_constant_quality_gives_a_flat_curve_at_the_initial_error():
    err = np.array([True, False, False, True, False, False, False, False])
    curve = metrics.error_vs_discard(np.full(8, 0.7), err)
    np.testing.assert_array_equal(curve.discard, [0.0])
    np.testing.assert_allclose(curve.at(np.linspace(0, 0.5, 11)), 0.25)
    assert curve.pauc(0.2) == pytest.approx(0.25 * 0.2)
    assert metrics.gain(curve.pauc(0.2), 0.25 * 0.2, 0.0) == pytest.approx(0.0)


def test_reversed_quality_is_worse_than_random():
    d = np.linspace(0, 1, 200)
    err = d > metrics.fnmr_threshold(d, 0.1)
    worst = metrics.error_vs_discard(d, err)  # rejects the best comparisons first
    assert metrics.gain(worst.pauc(0.2), err.mean() * 0.2, metrics.error_vs_discard(-d, err).pauc(0.2)) < 0


def test_random_curve_is_close_to_the_initial_error():
    err = np.zeros(1000, bool)
    err[:100] = True
    grid = np.linspace(0, 0.5, 6)
    np.testing.assert_allclose(metrics.random_curve(err, 200, 0, grid), 0.1, atol=0.01)
    assert metrics.random_pauc(err, 0.2, 200, 0) == pytest.approx(0.1 * 0.2, rel=0.05)


def test_thresholds():
    genuine = np.arange(1, 101, dtype=float)  # 1..100
    t = metrics.fnmr_threshold(genuine, 0.05)
    assert np.mean(genuine > t) == pytest.approx(0.05)
    impostor = np.arange(1, 2001, dtype=float)  # 1..2000
    t = metrics.fmr_threshold(impostor, 1e-3)
    assert np.mean(impostor <= t) == pytest.approx(1e-3)  # exactly 2 of 2000 at or below
    with pytest.raises(metrics.TooFewComparisons, match="too few"):
        metrics.fmr_threshold(np.arange(500.0), 1e-3)


@pytest.mark.parametrize(
    "quality, is_error, message",
    [
        ([1.0, np.nan], [True, False], "finite"),
        ([1.0, 2.0], [True], "same length"),
        ([], [], "empty"),
        ([[1.0]], [[True]], "one-dimensional"),
    ],
)
def test_bad_inputs_are_named(quality, is_error, message):
    with pytest.raises(ValueError, match=message):
        metrics.error_vs_discard(quality, is_error)


def test_bad_limits_and_rates():
    curve = metrics.error_vs_discard([1.0, 2.0], [True, False])
    with pytest.raises(ValueError, match="limit"):
        curve.pauc(0.0)
    with pytest.raises(ValueError, match="initial_fnmr"):
        metrics.fnmr_threshold([1.0, 2.0], 1.5)
    assert np.isnan(metrics.gain(0.1, 0.0, 0.0))
