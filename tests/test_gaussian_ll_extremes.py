"""gaussian_log_rp at the edges of the double range: no NaN, and agreement with a NumPy reference
written for those edges (x == mu with sigma below the double range; every sample -inf)."""

from __future__ import annotations

import facesel
import numpy as np
import pytest

DEVICES = ["cpu", "cuda"] if facesel.HAS_CUDA else ["cpu"]
HALF_LOG_2PI = 0.5 * np.log(2 * np.pi)


def careful_reference(x: np.ndarray, mu: np.ndarray, log_sigma: np.ndarray) -> np.ndarray:
    """Float64 log RP with the limits taken by hand: z = 0 where x == mu (whatever sigma), and
    log RP = -inf where every sample's log likelihood is -inf."""
    diff = x.astype(np.float64)[:, None, :] - mu.astype(np.float64)
    ls = log_sigma.astype(np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        z = np.where(diff == 0.0, 0.0, diff * np.exp(-ls))
        per_sample = np.sum(-HALF_LOG_2PI - ls - 0.5 * z * z, axis=2)
    out = np.full(len(x), -np.inf)
    for i, row in enumerate(per_sample):
        m = row.max()
        if np.isfinite(m):
            out[i] = m + np.log(np.exp(row - m).sum()) - np.log(len(row))
    return out


def check(device, x, mu, log_sigma):
    got = facesel.gaussian_log_rp(x, mu, log_sigma, device=device)
    want = careful_reference(x, mu, log_sigma)
    assert not np.isnan(got).any(), got
    assert np.array_equal(np.isneginf(got), np.isneginf(want)), (got, want)
    finite = np.isfinite(want)
    np.testing.assert_allclose(got[finite], want[finite], rtol=1e-6)  # exp(-log_sigma) in float in [-80, 80]
    return got


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("log_sigma_value", [-709.0, -710.0, -800.0, -3e38])
def test_x_equal_to_mu_with_vanishing_sigma_is_finite(device, log_sigma_value):
    """exp(-log_sigma) overflows below about -709.78: 0 * inf must count as z = 0."""
    x = np.linspace(0, 1, 2 * 37, dtype=np.float32).reshape(2, 37)
    mu = np.repeat(x[:, None, :], 3, axis=1)
    log_sigma = np.full(mu.shape, log_sigma_value, np.float32)
    got = check(device, x, mu, log_sigma)
    assert np.all(np.isfinite(got))
    # Every pixel contributes -log sqrt(2 pi) - log_sigma; all samples alike, so log RP is their sum.
    want = 37 * (-HALF_LOG_2PI - np.float64(np.float32(log_sigma_value)))
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("log_sigma_value", [-400.0, -800.0])
def test_every_sample_minus_infinity_gives_minus_infinity_not_nan(device, log_sigma_value):
    """z^2 ~ 1e347 overflows: each sample's log likelihood is -inf, so is log RP (log 0)."""
    rng = np.random.default_rng(3)
    x = rng.random((3, 64), dtype=np.float32)
    mu = (x[:, None, :] + 0.25).astype(np.float32).repeat(4, axis=1)
    log_sigma = np.full(mu.shape, log_sigma_value, np.float32)
    got = check(device, x, mu, log_sigma)
    assert np.all(np.isneginf(got))


@pytest.mark.parametrize("device", DEVICES)
def test_some_samples_minus_infinity_leave_the_others(device):
    """A sample of likelihood 0 drops out of the average: log RP = lse(finite ones) - log L."""
    rng = np.random.default_rng(4)
    x = rng.random((2, 50), dtype=np.float32)
    mu = (x[:, None, :] + 0.01 * rng.standard_normal((2, 5, 50))).astype(np.float32)
    log_sigma = rng.uniform(-3, 0, mu.shape).astype(np.float32)
    log_sigma[:, [0, 3]] = -500.0  # samples 0 and 3 of each row: -inf
    got = check(device, x, mu, log_sigma)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(
        got, careful_reference(x, mu[:, [1, 2, 4]], log_sigma[:, [1, 2, 4]]) + np.log(3 / 5), rtol=1e-9
    )


@pytest.mark.parametrize("device", DEVICES)
def test_mixed_pixels_and_huge_values(device):
    """x == mu on some pixels and not on others under vanishing sigma (-inf), huge sigma (finite,
    very negative), and residuals near the float maximum inside the fast range."""
    rng = np.random.default_rng(5)
    x = rng.random((4, 40), dtype=np.float32)
    mu = np.repeat(x[:, None, :], 2, axis=1).copy()
    log_sigma = rng.uniform(-2, 2, mu.shape).astype(np.float32)
    mu[0, :, ::2] += 0.5  # row 0: half the pixels differ, sigma vanishes -> -inf
    log_sigma[0] = -1000.0
    log_sigma[1] = 1e30  # row 1: sigma huge, z ~ 0 -> about -40 * 1e30 per sample
    x[2] = 3e38  # row 2: residual ~ 3e38 times exp(80): z^2 ~ 1e147, finite in double
    log_sigma[2] = -80.0
    mu[3, 1, 5] = 0.0  # row 3: sample 1 of 2 is -inf, sample 0 finite
    x[3, 5] = 1.0
    log_sigma[3, 1] = -750.0
    got = check(device, x, mu, log_sigma)
    assert np.isneginf(got[0]) and np.all(np.isfinite(got[1:]))
