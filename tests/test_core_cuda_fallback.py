"""The CUDA path's probe and fallback, tested without a GPU: a stand-in for facesel._cuda that
fails where asked, the real module's failure hook, and a build without the module.

"auto" must fall back to the CPU with one CudaFallbackWarning on any CUDA failure and stay silent
when CUDA is simply not there; "cuda" must raise naming the reason; "cpu" must never touch CUDA."""

from __future__ import annotations

import subprocess
import sys
import warnings

import facesel
import numpy as np
import pytest
from facesel import _backend, _core


class FakeCudaError(RuntimeError):
    pass


class FakeCuda:
    """Mimics facesel._cuda: probe verdict and call behaviour chosen by the test; counts calls."""

    CudaError = FakeCudaError

    def __init__(self, probe_code: int = 0, probe_message: str = "", fail_calls: bool = False):
        self.probe_code, self.probe_message, self.fail_calls = probe_code, probe_message, fail_calls
        self.probes: list[int] = []
        self.calls: list[tuple[int, object]] = []

    def probe(self, device, inject_failure=""):
        self.probes.append(device)
        return self.probe_code, self.probe_message

    def device_count(self):
        return 1

    def gaussian_log_rp(self, x, mu, log_sigma, device=0, stream=None):
        self.calls.append((device, stream))
        if self.fail_calls:
            raise FakeCudaError("CUDA kernel sample_log_likelihoods failed: cudaErrorIllegalAddress: illegal access")
        return _core.gaussian_log_rp(x, mu, log_sigma, 1) + 0.0

    def gaussian_log_rp_device(self, x_ptr, mu_ptr, log_sigma_ptr, n, l, d, device=0, stream=None):
        self.calls.append(("device memory", x_ptr, mu_ptr, log_sigma_ptr, n, l, d, device, stream))
        return np.full(n, -1.0)


@pytest.fixture
def fake_cuda(monkeypatch):
    """Installs a FakeCuda (configure it through the returned factory) with no cached probe."""

    def install(**kwargs) -> FakeCuda:
        fake = FakeCuda(**kwargs)
        monkeypatch.setattr(_backend, "_cuda", fake)
        monkeypatch.delenv(_backend.DISABLE_ENV, raising=False)
        _backend._states.clear()
        return fake

    yield install
    _backend._states.clear()  # the real module's verdict is probed again by whoever asks next


def inputs(n=3, l=2, d=16):
    rng = np.random.default_rng(0)
    x = rng.random((n, d), dtype=np.float32)
    return x, (x[:, None] + 0.1).repeat(l, 1).astype(np.float32), np.full((n, l, d), -1.0, np.float32)


def cpu_result():
    return facesel.gaussian_log_rp(*inputs(), device="cpu")


def test_failed_probe_auto_warns_once_and_computes_on_the_cpu(fake_cuda):
    fake = fake_cuda(probe_code=2, probe_message="creating a CUDA context on device 0: cudaErrorDevicesUnavailable")
    with pytest.warns(facesel.CudaFallbackWarning, match="cudaErrorDevicesUnavailable.*using the CPU"):
        first = facesel.gaussian_log_rp(*inputs())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a second warning would raise here
        second = facesel.gaussian_log_rp(*inputs())
    np.testing.assert_array_equal(first, cpu_result())
    np.testing.assert_array_equal(second, first)
    assert fake.probes == [0] and fake.calls == [], "the probe runs once and a failed device gets no calls"
    assert facesel.HAS_CUDA is False
    with pytest.raises(RuntimeError, match="CUDA is failed: creating a CUDA context"):
        facesel.gaussian_log_rp(*inputs(), device="cuda")


def test_kernel_failure_during_a_call_falls_back_once_then_stays_on_the_cpu(fake_cuda):
    fake = fake_cuda(probe_code=0, fail_calls=True)
    assert facesel.HAS_CUDA is True
    with pytest.warns(facesel.CudaFallbackWarning, match="kernel sample_log_likelihoods failed.*IllegalAddress"):
        got = facesel.gaussian_log_rp(*inputs())
    np.testing.assert_array_equal(got, cpu_result())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        facesel.gaussian_log_rp(*inputs())
    assert len(fake.calls) == 1, "after a failure 'auto' must not try the GPU again"
    assert facesel.HAS_CUDA is False


def test_explicit_cuda_raises_the_kernel_error_instead_of_falling_back(fake_cuda):
    fake_cuda(probe_code=0, fail_calls=True)
    with pytest.raises(RuntimeError, match="kernel sample_log_likelihoods failed"):
        facesel.gaussian_log_rp(*inputs(), device="cuda")


def test_unavailable_cuda_is_silent_and_explicit_cuda_names_the_reason(fake_cuda):
    fake_cuda(probe_code=1, probe_message="no CUDA device")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(facesel.gaussian_log_rp(*inputs()), cpu_result())
    with pytest.raises(RuntimeError, match="CUDA is unavailable: no CUDA device"):
        facesel.gaussian_log_rp(*inputs(), device="cuda")


def test_device_index_and_stream_reach_the_module(fake_cuda):
    fake = fake_cuda(probe_code=0)
    np.testing.assert_array_equal(facesel.gaussian_log_rp(*inputs(), device="cuda:1", stream=12345), cpu_result())
    facesel.gaussian_log_rp(*inputs())
    assert fake.probes == [1, 0] and fake.calls == [(1, 12345), (0, None)]


def test_cpu_never_probes_or_calls_cuda(fake_cuda):
    fake = fake_cuda(probe_code=0)
    facesel.gaussian_log_rp(*inputs(), device="cpu", threads=2)
    assert fake.probes == [] and fake.calls == []
    with pytest.raises(ValueError, match="stream is for the GPU only"):
        facesel.gaussian_log_rp(*inputs(), device="cpu", stream=1)


def test_vae_scorer_on_cpu_never_touches_cuda_and_auto_passes_the_reduction_on(fake_cuda):
    crops = np.random.default_rng(1).integers(0, 256, (3, 64, 64), dtype=np.uint8)
    fake = fake_cuda(probe_code=0)
    cpu = facesel.VAEScorer.paper(device="cpu", samples=2, threads=2).score(crops)
    assert fake.probes == [] and fake.calls == [], "VAEScorer(device='cpu') must not touch the GPU"
    auto = facesel.VAEScorer.paper(device="auto", samples=2).score(crops)
    assert fake.probes == [0] and len(fake.calls) == 1, "'auto' with a usable GPU reduces on the GPU"
    np.testing.assert_allclose(auto, cpu, rtol=1e-12)


def test_vae_scorer_explicit_cuda_needs_a_usable_gpu(fake_cuda):
    fake_cuda(probe_code=1, probe_message="no CUDA device")
    with pytest.raises(RuntimeError, match="no CUDA device"):
        facesel.VAEScorer.paper(device="cuda")
    with pytest.raises(ValueError, match="device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got 'cuda:x'"):
        facesel.VAEScorer.paper(device="cuda:x")


def test_without_the_cuda_module_everything_runs_on_the_cpu(monkeypatch):
    monkeypatch.setattr(_backend, "_cuda", None)
    _backend._states.clear()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            np.testing.assert_array_equal(facesel.gaussian_log_rp(*inputs()), cpu_result())
        assert facesel.HAS_CUDA is False
        with pytest.raises(RuntimeError, match="built without CUDA"):
            facesel.gaussian_log_rp(*inputs(), device="cuda")
    finally:
        _backend._states.clear()


def test_disable_env_keeps_the_process_off_the_gpu(fake_cuda, monkeypatch):
    fake = fake_cuda(probe_code=0)
    monkeypatch.setenv(_backend.DISABLE_ENV, "1")
    assert facesel.HAS_CUDA is False and fake.probes == []
    with pytest.raises(RuntimeError, match="disabled by FACESEL_DISABLE_CUDA=1"):
        facesel.gaussian_log_rp(*inputs(), device="cuda")


@pytest.mark.parametrize("device", ["gpu", "cuda:", "cuda:-1", "cuda:1.5", "CUDA", 0, None])
def test_bad_device_names_the_value(device):
    with pytest.raises(ValueError, match="device must be 'auto', 'cpu', 'cuda' or 'cuda:N'"):
        facesel.gaussian_log_rp(*inputs(), device=device)


@pytest.mark.skipif(not _backend.cuda_compiled, reason="needs the compiled facesel._cuda")
def test_real_module_failure_hook_drives_the_fallback(monkeypatch):
    """The compiled probe with its failure hook: "auto" warns once and matches the CPU."""
    real = _backend._cuda

    class FailingProbe:
        CudaError = real.CudaError

        def __getattr__(self, name):
            return getattr(real, name)

        def probe(self, device, inject_failure=""):
            return real.probe(device, "driver")

    code, message = real.probe(0, "driver")
    assert code == 2 and "injected driver failure" in message
    monkeypatch.setattr(_backend, "_cuda", FailingProbe())
    _backend._states.clear()
    try:
        with pytest.warns(facesel.CudaFallbackWarning, match="injected driver failure"):
            np.testing.assert_array_equal(facesel.gaussian_log_rp(*inputs()), cpu_result())
        with pytest.raises(RuntimeError, match="injected driver failure"):
            facesel.gaussian_log_rp(*inputs(), device="cuda")
    finally:
        _backend._states.clear()
    with pytest.raises(ValueError, match="inject_failure must be"):
        real.probe(0, "everything")


def run_python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_import_does_not_probe_and_a_forked_child_probes_again():
    out = run_python(
        "import os, facesel\n"
        "from facesel import _backend\n"
        "print(len(_backend._states))\n"
        "facesel.HAS_CUDA\n"
        "print(len(_backend._states))\n"
        "r, w = os.pipe()\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    os.write(w, str(len(_backend._states)).encode()); os._exit(0)\n"
        "os.waitpid(pid, 0)\n"
        "print(os.read(r, 10).decode())\n"
    )
    assert out.split() == ["0", "1", "0"], out


class FakeDeviceArray:
    """Something that says it is a CUDA array (``__cuda_array_interface__`` version 3)."""

    def __init__(self, shape, pointer=0x7F0000000000, typestr="<f4", strides=None, **extra):
        self.__cuda_array_interface__ = {
            "shape": tuple(shape), "typestr": typestr, "data": (pointer, False), "strides": strides, "version": 3, **extra
        }


def device_inputs(n=3, l=2, d=16):
    return FakeDeviceArray((n, d), 0x1000), FakeDeviceArray((n, l, d), 0x2000), FakeDeviceArray((n, l, d), 0x3000)


def test_device_arrays_go_to_the_device_entry_with_their_pointers(fake_cuda):
    fake = fake_cuda(probe_code=0)
    out = facesel.gaussian_log_rp(*device_inputs(), device="cuda:0", stream=7)
    np.testing.assert_array_equal(out, [-1.0, -1.0, -1.0])
    assert fake.calls == [("device memory", 0x1000, 0x2000, 0x3000, 3, 2, 16, 0, 7)]
    facesel.gaussian_log_rp(*device_inputs(), device="auto")  # no CPU fallback for device memory
    assert fake.calls[-1][0] == "device memory"
    empty = facesel.gaussian_log_rp(*device_inputs(n=0))
    assert empty.shape == (0,) and len(fake.calls) == 2


def test_device_arrays_without_a_usable_gpu_raise_even_for_auto(fake_cuda):
    fake_cuda(probe_code=1, probe_message="no CUDA device")
    with pytest.raises(RuntimeError, match="no CUDA device"):
        facesel.gaussian_log_rp(*device_inputs())


@pytest.mark.parametrize(
    "change, error, needle",
    [
        (lambda a: (a[0], a[1], np.zeros((3, 2, 16), np.float32)), TypeError, "log_sigma not on the GPU"),
        (lambda a: (FakeDeviceArray((3, 16), typestr="<f8"), a[1], a[2]), TypeError, "x must be a float32 device"),
        (lambda a: (FakeDeviceArray((3, 16, 1)), a[1], a[2]), ValueError, "x must have 2 dimensions"),
        (lambda a: (a[0], FakeDeviceArray((3, 2, 16), strides=(4, 12, 24)), a[2]), ValueError, "mu must be C-contig"),
        (lambda a: (a[0], FakeDeviceArray((4, 2, 16)), a[2]), ValueError, "mu must have shape"),
        (lambda a: (a[0], a[1], FakeDeviceArray((3, 3, 16))), ValueError, "log_sigma must have the shape of mu"),
        (lambda a: (a[0], a[1], FakeDeviceArray((3, 2, 16), mask=object())), ValueError, "log_sigma: masked"),
    ],
)
def test_bad_device_arrays_name_the_argument(fake_cuda, change, error, needle):
    fake = fake_cuda(probe_code=0)
    with pytest.raises(error, match=needle):
        facesel.gaussian_log_rp(*change(device_inputs()))
    assert fake.calls == []


def test_device_arrays_refuse_the_cpu(fake_cuda):
    fake = fake_cuda(probe_code=0)
    with pytest.raises(ValueError, match="device='cpu' cannot read them"):
        facesel.gaussian_log_rp(*device_inputs(), device="cpu")
    assert fake.probes == []


@pytest.mark.skipif(not _backend.cuda_compiled or facesel.HAS_CUDA, reason="needs the CUDA module without a device")
def test_real_device_entry_validates_then_reports_no_device():
    real = _backend._cuda
    with pytest.raises(ValueError, match="x_ptr must be a non-null, 4-byte aligned device pointer, got 0"):
        real.gaussian_log_rp_device(0, 16, 32, 1, 1, 4)
    with pytest.raises(ValueError, match=r"shape \(n, l, d\) = \(1, 0, 4\) is out of range"):
        real.gaussian_log_rp_device(16, 16, 32, 1, 0, 4)
    with pytest.raises(RuntimeError, match="no usable CUDA device"):
        real.gaussian_log_rp_device(16, 32, 64, 1, 1, 4)


@pytest.mark.parametrize("method", ["paper", None], ids=["paper", "default-rule"])
def test_vae_scorer_passes_device_and_threads_to_every_reduction(monkeypatch, method):
    import facesel.scoring.vae_runtime as runtime

    seen = []
    real = runtime.gaussian_log_rp

    def recording(x, mu, log_sigma, **kwargs):
        seen.append(kwargs)
        return real(x, mu, log_sigma, **kwargs)

    monkeypatch.setattr(runtime, "gaussian_log_rp", recording)
    crops = np.random.default_rng(2).integers(0, 256, (2, 64, 64), dtype=np.uint8)
    facesel.VAEScorer(method=method, device="cpu", threads=2, samples=2).score(crops)
    assert seen and all(k == {"device": "cpu", "threads": 2} for k in seen), seen
