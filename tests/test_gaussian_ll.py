import facesel
import numpy as np
import pytest
from facesel import _backend

DEVICES = ["cpu", "cuda"] if facesel.HAS_CUDA else ["cpu"]


def reference_log_rp(x, mu, log_sigma):
    """Float64 NumPy reference of the log reconstruction probability."""
    x = x.astype(np.float64)[:, None, :]
    mu = mu.astype(np.float64)
    ls = log_sigma.astype(np.float64)
    per_sample = np.sum(-0.5 * np.log(2 * np.pi) - ls - 0.5 * ((x - mu) * np.exp(-ls)) ** 2, axis=2)
    m = per_sample.max(axis=1, keepdims=True)
    return (m[:, 0] + np.log(np.exp(per_sample - m).sum(axis=1))) - np.log(mu.shape[1])


def make_inputs(n, samples, d, ls_low=-7.0, ls_high=3.0, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, d), dtype=np.float32)
    mu = (x[:, None, :] + 0.05 * rng.standard_normal((n, samples, d))).astype(np.float32)
    log_sigma = rng.uniform(ls_low, ls_high, (n, samples, d)).astype(np.float32)
    return x, mu, log_sigma


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("samples", [1, 10, 20])
def test_matches_float64_reference(samples, device):
    n, d = 5, 4096
    x, mu, log_sigma = make_inputs(n, samples, d, seed=samples)
    got = facesel.gaussian_log_rp(x, mu, log_sigma, device=device)
    want = reference_log_rp(x, mu, log_sigma)
    assert got.dtype == np.float64 and got.shape == (n,)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, want, rtol=1e-6)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("low, high", [(-7.0, -7.0), (3.0, 3.0), (-100.0, 100.0), (-85.0, -79.0)])
def test_extreme_log_sigma_stays_finite_and_exact(low, high, device):
    """At the ends of the model's range, and beyond the float fast path (double fallback)."""
    x, mu, log_sigma = make_inputs(3, 4, 257, low, high, seed=1)
    got = facesel.gaussian_log_rp(x, mu, log_sigma, device=device)
    with np.errstate(over="ignore"):
        want = reference_log_rp(x, mu, log_sigma)
    finite = np.isfinite(want)
    assert finite.any()
    np.testing.assert_allclose(got[finite], want[finite], rtol=1e-6)
    assert not np.isnan(got).any()


@pytest.mark.parametrize("device", DEVICES)
def test_odd_sizes_and_empty_batch(device):
    for d in (1, 3, 17, 4099):  # vector tails
        x, mu, log_sigma = make_inputs(2, 3, d, seed=d)
        np.testing.assert_allclose(
            facesel.gaussian_log_rp(x, mu, log_sigma, device=device), reference_log_rp(x, mu, log_sigma), rtol=1e-6
        )
    out = facesel.gaussian_log_rp(*make_inputs(0, 2, 8), device=device)
    assert out.shape == (0,) and out.dtype == np.float64


def test_known_value():
    """x = mu and sigma = 1: every pixel contributes exactly -log sqrt(2 pi), for any L."""
    x = np.full((1, 10), 0.3, np.float32)
    mu = np.repeat(x[:, None, :], 4, axis=1)
    got = facesel.gaussian_log_rp(x, mu, np.zeros_like(mu))
    assert got[0] == pytest.approx(-10 * 0.5 * np.log(2 * np.pi), rel=1e-12)


def test_threads_do_not_change_the_result():
    x, mu, log_sigma = make_inputs(7, 3, 300, seed=4)
    one = facesel.gaussian_log_rp(x, mu, log_sigma, device="cpu", threads=1)
    for threads in (2, 3, 16):
        assert np.array_equal(facesel.gaussian_log_rp(x, mu, log_sigma, device="cpu", threads=threads), one)


def test_float64_and_non_contiguous_inputs_are_converted():
    x, mu, log_sigma = make_inputs(3, 2, 64, seed=5)
    want = facesel.gaussian_log_rp(x, mu, log_sigma)
    x_t = np.asfortranarray(x.astype(np.float64))
    got = facesel.gaussian_log_rp(x_t, mu[:, ::1, :], np.ascontiguousarray(log_sigma))
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(
    "change, error, needle",
    [
        (lambda a: (a[0][:, :5], a[1], a[2]), ValueError, "mu must have shape"),
        (lambda a: (a[0], a[1], a[2][:, :1]), ValueError, "log_sigma must have the shape of mu"),
        (lambda a: (a[0][0], a[1], a[2]), ValueError, "x must have 2 dimensions"),
        (lambda a: (a[0], a[1].astype(np.complex64), a[2]), TypeError, "mu must be a numeric array"),
        (lambda a: (a[0].tolist(), a[1], a[2]), TypeError, "x must be a numpy.ndarray"),
        (lambda a: (a[0], a[1][:, :0], a[2][:, :0]), ValueError, "at least one latent sample"),
    ],
)
def test_bad_input_names_the_argument(change, error, needle):
    with pytest.raises(error, match=needle):
        facesel.gaussian_log_rp(*change(make_inputs(2, 3, 8)))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_values_are_rejected(bad):
    x, mu, log_sigma = make_inputs(2, 3, 8)
    log_sigma[1, 2, 5] = bad
    with pytest.raises(ValueError, match=r"log_sigma must hold finite values, found .* at flat index 45"):
        facesel.gaussian_log_rp(x, mu, log_sigma)


def test_device_argument():
    args = make_inputs(1, 1, 4)
    with pytest.raises(ValueError, match="device must be"):
        facesel.gaussian_log_rp(*args, device="gpu")
    if not facesel.HAS_CUDA:
        with pytest.raises(RuntimeError, match="device='cuda:0' was asked for but CUDA is"):
            facesel.gaussian_log_rp(*args, device="cuda")


@pytest.mark.skipif(not _backend.cuda_compiled or facesel.HAS_CUDA, reason="needs the CUDA module without a device")
def test_cuda_module_without_device_raises_so_that_auto_falls_back():
    with pytest.raises(RuntimeError, match="no usable CUDA device"):
        _backend._cuda.gaussian_log_rp(*make_inputs(1, 1, 4))
    np.testing.assert_allclose(facesel.gaussian_log_rp(*make_inputs(1, 1, 4)), reference_log_rp(*make_inputs(1, 1, 4)))


@pytest.mark.parametrize("device", DEVICES)
def test_batches_of_changing_size_and_several_staging_chunks(device):
    """On the GPU: buffers that persist and grow between calls, and a batch (N=120, L=10,
    D=4096: 39 MB) staged in two chunks of at most 32 MB; on the CPU the same answers."""
    for n, samples, d in [(2, 3, 64), (120, 10, 4096), (1, 1, 5), (37, 4, 1000)]:
        x, mu, log_sigma = make_inputs(n, samples, d, seed=n + d)
        got = facesel.gaussian_log_rp(x, mu, log_sigma, device=device)
        np.testing.assert_allclose(got, reference_log_rp(x, mu, log_sigma), rtol=1e-6)


class _TorchLikeStream:
    cuda_stream = -5  # what a broken wrapper could hand over


@pytest.mark.parametrize("stream, error, words", [
    (-1, ValueError, "stream must be a CUDA stream handle in [0, 2**64), got -1"),
    (2 ** 64, ValueError, "stream must be a CUDA stream handle"),
    (1.5, TypeError, "stream must be a CUDA stream handle (an int)"),
    (True, TypeError, "stream must be a CUDA stream handle (an int)"),
    ("0", TypeError, "stream must be a CUDA stream handle (an int)"),
    (_TorchLikeStream(), ValueError, "got -5"),
])
def test_a_stream_that_is_not_a_handle_is_refused_before_any_cuda_call(stream, error, words):
    """A raw stream handle is reinterpreted as an address in the CUDA binding: a negative, too
    wide or non-integer value is refused in Python first, with or without a GPU."""
    x = np.zeros((1, 4), np.float32)
    mu = np.zeros((1, 2, 4), np.float32)
    with pytest.raises(error) as caught:
        facesel.gaussian_log_rp(x, mu, mu, device="cuda", stream=stream)
    assert words in str(caught.value)
