"""The GPU check: kernel correctness under compute-sanitizer, then timings. Run by
benchmarks/gpu_check.sh on a machine with an NVIDIA GPU (it cannot run without one).

    python benchmarks/gpu_check.py smoke      # a few calls covering every kernel path; exit 1 on a mismatch
    python benchmarks/gpu_check.py reduction  # CPU vs GPU call vs kernel, N = 32, 256, 2048
    python benchmarks/gpu_check.py scorer     # crops/s of the whole VAE scorer, CUDA vs CPU

Timings are wall-clock (time.perf_counter), best of several repeats; kernel times come from CUDA
events around repeated launches on inputs already on the device. GB/s counts the bytes the
reduction must read: x, mu and log_sigma in float32.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

L, D = 10, 4096


def make_inputs(n: int, samples: int = L, d: int = D, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, d), dtype=np.float32)
    mu = (x[:, None, :] + 0.05 * rng.standard_normal((n, samples, d), dtype=np.float32)).astype(np.float32)
    log_sigma = rng.uniform(-7, 3, (n, samples, d)).astype(np.float32)
    return x, mu, log_sigma


def best_seconds(func, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def smoke() -> int:
    """Every path of the kernel once: vector loads (D % 4 == 0), scalar loads, several staging
    chunks, growing buffers, extreme log_sigma (double fallback, -inf samples), and the
    device-memory entry point (with inf/NaN detection on the device)."""
    import facesel

    if not facesel.HAS_CUDA:
        from facesel import _backend

        print(f"smoke: CUDA not usable: {_backend.cuda_state(0)}")
        return 1
    cases = [(3, 2, 4096), (5, 3, 4099), (1, 1, 1), (120, 10, 4096), (7, 4, 17)]
    failures = 0
    for n, samples, d in cases:
        x, mu, ls = make_inputs(n, samples, d, seed=n)
        if n == 7:
            ls[:, 0] = -500.0  # every pixel beyond the fast range; sample 0 is -inf
        want = facesel.gaussian_log_rp(x, mu, ls, device="cpu")
        got = facesel.gaussian_log_rp(x, mu, ls, device="cuda")
        ok = np.allclose(got, want, rtol=1e-6) and np.array_equal(np.isfinite(got), np.isfinite(want))
        failures += not ok
        print(f"smoke N={n} L={samples} D={d}: {'ok' if ok else 'MISMATCH'}")
    failures += device_memory_smoke()
    return 1 if failures else 0


class OnDevice:
    """A float32 array copied to GPU 0 by ONNX Runtime, shown through __cuda_array_interface__."""

    def __init__(self, array: np.ndarray):
        import onnxruntime as ort

        self.value = ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(array, np.float32), "cuda", 0)
        self.__cuda_array_interface__ = {"shape": array.shape, "typestr": "<f4", "data": (self.value.data_ptr(), True),
                                         "strides": None, "version": 3}


def device_memory_smoke() -> int:
    """The device-memory entry point on arrays that live on the GPU (needs onnxruntime-gpu)."""
    import onnxruntime as ort

    import facesel

    if "CUDAExecutionProvider" not in ort.get_available_providers():
        print("smoke device memory: skipped (no onnxruntime-gpu to put arrays on the GPU)")
        return 0
    failures = 0
    for n, samples, d in [(4, 3, 4096), (3, 2, 4099)]:
        x, mu, ls = make_inputs(n, samples, d, seed=d)
        want = facesel.gaussian_log_rp(x, mu, ls, device="cpu")
        got = facesel.gaussian_log_rp(OnDevice(x), OnDevice(mu), OnDevice(ls), device="cuda")
        ok = np.allclose(got, want, rtol=1e-6)
        failures += not ok
        print(f"smoke device memory N={n} L={samples} D={d}: {'ok' if ok else 'MISMATCH'}")
    x, mu, ls = make_inputs(2, 2, 64)
    ls[1, 1, 3] = np.nan
    try:
        facesel.gaussian_log_rp(OnDevice(x), OnDevice(mu), OnDevice(ls), device="cuda")
        print("smoke device memory NaN: NOT DETECTED")
        failures += 1
    except ValueError as err:
        print(f"smoke device memory NaN: ok ({err})")
    return failures


def reduction() -> None:
    import facesel
    from facesel import _backend

    cores = os.cpu_count() or 1
    print(f"{'N':>5} {'CPU 1 thr':>10} {'CPU ' + str(cores) + ' thr':>10} {'GPU call':>10} {'kernel':>10} "
          f"{'call GB/s':>10} {'kernel GB/s':>12} {'max rel err':>12}")
    for n in (32, 256, 2048):
        x, mu, ls = make_inputs(n)
        nbytes = x.nbytes + mu.nbytes + ls.nbytes
        repeats = 5 if n <= 256 else 2
        cpu1 = best_seconds(lambda: facesel.gaussian_log_rp(x, mu, ls, device="cpu"), repeats)
        cpun = best_seconds(lambda: facesel.gaussian_log_rp(x, mu, ls, device="cpu", threads=min(cores, 256)), repeats)
        want = facesel.gaussian_log_rp(x, mu, ls, device="cpu")
        got = facesel.gaussian_log_rp(x, mu, ls, device="cuda")  # also the warm-up of buffers
        call = best_seconds(lambda: facesel.gaussian_log_rp(x, mu, ls, device="cuda"), repeats * 2)
        kernel = _backend._cuda._time_kernel_ms(x, mu, ls, 0, 20) / 1e3
        err = float(np.max(np.abs(got - want) / np.abs(want)))
        print(f"{n:>5} {cpu1 * 1e3:>8.2f}ms {cpun * 1e3:>8.2f}ms {call * 1e3:>8.2f}ms {kernel * 1e3:>8.3f}ms "
              f"{nbytes / call / 1e9:>10.1f} {nbytes / kernel / 1e9:>12.1f} {err:>12.2e}")


def scorer() -> None:
    import onnxruntime as ort

    import facesel

    print(f"onnxruntime {ort.__version__}, providers {ort.get_available_providers()}")
    crops = np.random.default_rng(0).integers(0, 256, (512, 64, 64), dtype=np.uint8)
    cores = os.cpu_count() or 1
    settings = [("cpu", {"device": "cpu", "threads": cores})]
    if "CUDAExecutionProvider" in ort.get_available_providers():
        settings.append(("cuda", {"device": "cuda"}))
    else:
        print("no CUDAExecutionProvider (install onnxruntime-gpu): the VAE itself cannot run on the GPU here")
        label = "cpu VAE + GPU reduction" if facesel.HAS_CUDA else "auto (no usable CUDA: all CPU)"
        settings.append((label, {"device": "auto", "threads": cores}))
    for rule in ("paper", None):
        for label, kwargs in settings:
            scorer = facesel.VAEScorer(method=rule, batch_size=64, **kwargs)
            scorer.score(crops[:64])  # warm-up: sessions, CUDA buffers
            seconds = best_seconds(lambda s=scorer: s.score(crops), 2)
            print(f"scorer {scorer.method:>10} on {label:<26}: {len(crops) / seconds:8.0f} crops/s")


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else ""
    if what == "smoke":
        sys.exit(smoke())
    elif what == "reduction":
        reduction()
    elif what == "scorer":
        scorer()
    else:
        sys.exit("usage: python benchmarks/gpu_check.py smoke|reduction|scorer")
