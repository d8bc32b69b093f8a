import numpy as np
import pytest

import facesel


def reference_log_rp(x, mu, log_sigma):
    """Float64 NumPy reference of the log reconstruction probability."""
    x = x.astype(np.float64)[:, None, :]
    mu = mu.astype(np.float64)
    ls = log_sigma.astype(np.float64)
    per_sample = np.sum(-0.5 * np.log(2 * np.pi) - ls - 0.5 * ((x - mu) * np.exp(-ls)) ** 2, axis=2)
    m = per_sample.max(axis=1, keepdims=True)
    return (m[:, 0] + np.log(np.exp(per_sample - m).sum(axis=1))) - np.log(mu.shape[1])


@pytest.mark.parametrize("samples", [1, 10, 20])
def test_matches_float64_reference(samples):
    rng = np.random.default_rng(samples)
    n, d = 5, 4096
    x = rng.random((n, d), dtype=np.float32)
    mu = (x[:, None, :] + 0.05 * rng.standard_normal((n, samples, d))).astype(np.float32)
    log_sigma = rng.uniform(-7, 3, (n, samples, d)).astype(np.float32)
    got = facesel.gaussian_log_rp(x, mu, log_sigma)
    want = reference_log_rp(x, mu, log_sigma)
    assert got.dtype == np.float64 and got.shape == (n,)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, want, rtol=1e-6)
