"""Speed of the VAE scorer: facesel (ONNX Runtime + C++ reduction) vs the same weights in torch eager.

pytest-benchmark cases: crops per second at L = 10 and L = 1 (z = mu_z), batch 1 and 32, one
thread each. The benchmarks also check results: torch eager must give facesel's scores. A time
split (encoder / decoder / reduction / correction) is measured for the default rule.
Run as a script for a one-run table: ``python benchmarks/test_bench_scorer_speed.py``.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from facesel.core import gaussian_log_rp
from facesel.data import data_root
from facesel.scoring import VAEScorer
from facesel.scoring.vae_methods import METHODS
from facesel.scoring.vae_runtime import latent_noise

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None
    if os.environ.get("CI"):
        raise


CASES = [(10, 1), (10, 32), (1, 1), (1, 32)]  # (L, batch)


def real_crops(root: Path, n: int = 32) -> np.ndarray:
    paths = sorted((root / "faces" / "orl").glob("s*/5.pgm"))[:n]
    return np.stack([cv2.resize(cv2.imread(str(p), cv2.IMREAD_GRAYSCALE), (64, 64), interpolation=cv2.INTER_AREA) for p in paths])


def facesel_scorer(samples: int) -> VAEScorer:
    return VAEScorer.paper(samples=samples, use_mean=samples == 1, threads=1, batch_size=32)


class TorchEagerScorer:
    """The shipped weights in torch eager, same latents, log RP with torch's logsumexp."""

    def __init__(self, samples: int) -> None:
        from facesel.training.onnx_to_torch import vae_from_onnx

        torch.set_num_threads(1)
        scorer = facesel_scorer(samples)
        self.model = vae_from_onnx(scorer.model_dir)
        self.samples, self.use_mean, self.seed = samples, samples == 1, scorer.seed

    def score(self, crops: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            x = torch.from_numpy(crops.astype(np.float32)[:, None] / 255.0)
            mu_z, log_sigma_z = self.model.encoder(x)
            if self.use_mean:
                z = mu_z[:, None]
            else:
                eps = torch.from_numpy(np.stack([latent_noise(c, self.seed, self.samples, self.model.latent) for c in crops]))
                z = mu_z[:, None] + torch.exp(log_sigma_z)[:, None] * eps
            n, l_samples, latent = z.shape
            mu, ls = self.model.decoder(z.reshape(n * l_samples, latent))
            mu, ls = mu.reshape(n, l_samples, -1), ls.reshape(n, l_samples, -1)
            ll = (-0.5 * math.log(2 * math.pi) - ls - 0.5 * ((x.reshape(n, 1, -1) - mu) * torch.exp(-ls)) ** 2).double().sum(2)
            return (torch.logsumexp(ll, 1) - math.log(l_samples)).numpy()


@pytest.fixture(scope="module")
def crops(shared_data):
    """32 real ORL faces."""
    root = shared_data  # the root conftest skips, or fails under CI, without the data
    return real_crops(root)


def _per_batch(scorer, crops, batch):
    def run():
        return np.concatenate([scorer.score(crops[i : i + batch]) for i in range(0, len(crops), batch)])

    return run


@pytest.mark.parametrize("samples,batch", CASES, ids=[f"L{s}-b{b}" for s, b in CASES])
def test_facesel_scorer(benchmark, crops, samples, batch):
    scorer = facesel_scorer(samples)
    benchmark.extra_info.update({"crops": len(crops), "L": samples, "batch": batch, "engine": "facesel/onnxruntime"})
    out = benchmark(_per_batch(scorer, crops, batch))
    assert out.shape == (len(crops),) and np.all(np.isfinite(out))


@pytest.mark.skipif(torch is None, reason="torch (the [train] extra) is not installed")
@pytest.mark.parametrize("samples,batch", CASES, ids=[f"L{s}-b{b}" for s, b in CASES])
def test_torch_eager_same_weights(benchmark, crops, samples, batch):
    reference = TorchEagerScorer(samples)
    benchmark.extra_info.update({"crops": len(crops), "L": samples, "batch": batch, "engine": "torch eager"})
    out = benchmark(_per_batch(reference, crops, batch))
    np.testing.assert_allclose(out, facesel_scorer(samples).score(crops), rtol=1e-4, atol=0.05)


def time_split(scorer: VAEScorer, crops: np.ndarray, repeats: int = 3) -> dict:
    """Seconds per crop in encoder, decoder, log-RP reduction and the rule's correction."""
    t = dict(encoder=0.0, decoder=0.0, reduction=0.0, correction=0.0)
    rule = METHODS[scorer.method]
    for _ in range(repeats):
        t0 = time.perf_counter()
        x, mu_z, log_sigma_z = scorer.runner.encode(crops)
        t1 = time.perf_counter()
        z = scorer.runner.sample_latents(crops, mu_z, log_sigma_z, scorer.samples, scorer.use_mean, scorer.seed)
        mu_x, log_sigma_x = scorer.runner.decode(z)
        t2 = time.perf_counter()
        gaussian_log_rp(x, mu_x, log_sigma_x)
        t3 = time.perf_counter()
        from facesel.scoring.vae_runtime import VAEOutputs

        rule(VAEOutputs(x, mu_z, log_sigma_z, mu_x, log_sigma_x), crops, scorer.calibration)
        t4 = time.perf_counter()
        for key, dt in zip(t, (t1 - t0, t2 - t1, t3 - t2, max(0.0, (t4 - t3) - (t3 - t2)))):
            t[key] += dt / (repeats * len(crops))
    return t


def test_time_split_and_parameter_count(crops):
    scorer = VAEScorer.default(samples=10, threads=1, batch_size=32)
    # best of three single passes per stage: one pass each let a moment of a loaded machine's
    # preemption during the reduction decide the comparison below
    splits = [time_split(scorer, crops, repeats=1) for _ in range(3)]
    split = {key: min(s[key] for s in splits) for key in splits[0]}
    assert all(v >= 0 for v in split.values())
    assert split["decoder"] > split["reduction"]  # the decoder, not the reduction, is the cost (DESIGN.md)
    params = scorer.card.get("parameters")
    assert isinstance(params, int) and params > 0


def main() -> None:
    root = data_root()
    if root is None:
        raise SystemExit("shared data not found (FACESEL_DATA)")
    crops = real_crops(root)
    print(f"{'engine':14s} {'L':>3s} {'batch':>5s} {'crops/s':>9s}")
    for samples, batch in CASES:
        engines = [("facesel", facesel_scorer(samples))]
        if torch is not None:
            engines.append(("torch eager", TorchEagerScorer(samples)))
        for name, scorer in engines:
            run = _per_batch(scorer, crops, batch)
            run()  # warm-up
            t0 = time.perf_counter()
            for _ in range(3):
                run()
            rate = 3 * len(crops) / (time.perf_counter() - t0)
            print(f"{name:14s} {samples:3d} {batch:5d} {rate:9.1f}")
    default = VAEScorer.default(samples=10, threads=1, batch_size=32)
    split = time_split(default, crops)
    total = sum(split.values())
    print(f"time split, default rule {default.method!r}, L=10, batch 32: "
          + ", ".join(f"{k} {1e3 * v:.2f} ms/crop ({100 * v / total:.0f}%)" for k, v in split.items()))
    print(f"parameters: {default.card.get('parameters')}")


if __name__ == "__main__":
    main()
