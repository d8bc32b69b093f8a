"""Calibration constants some scoring rules need, measured on training faces with the exported model.

Only training crops are used (never evaluation faces, never degraded ones). No torch: this runs
the ONNX files through facesel's own runner.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facesel.scoring.vae_methods import quality_statistics, standardised_chi2
from facesel.scoring.vae_runtime import VAERunner

DOSE_STATISTICS = (
    "log_rp_per_pixel",
    "log_webp_bits",
    "log_png_bits_half",
    "log_chi2_fine",
    "log_chi2_coarse",
    "residual_blockiness",
    "log_anisotropy",
    "log_gradient_ratio",
)
"""The statistics the shipped ``dose`` rule uses: chosen on lfw/train faces by
``experiments/select_dose_statistics.py`` (see docs/model_card.md)."""

FLAT_STATISTIC = "log_flat_fraction"
"""What ``dose_flat`` (the stills default) adds to the dose statistics: flat patches left by a
block codec before alignment (chosen on lfw/train photos, see docs/model_card.md)."""

COVARIANCES = ("diagonal", "full")


def fit_gaussian(stats: np.ndarray, ridge: float = 1e-6, covariance: str = "diagonal") -> tuple[np.ndarray, np.ndarray]:
    """Mean (K,) and precision (K, K) of a Gaussian fitted to (N, K) statistics.

    ``covariance="diagonal"`` treats the statistics as independent, like the per-statistic
    densities of Morningstar et al.'s DoSE; ``"full"`` keeps their correlations. The full matrix
    fits training faces as well (same degradation response on lfw/train) but its largest
    precision entries sit on differences of strongly correlated statistics (e.g. WebP bits minus
    half-scale PNG bits), so a small shift of a new camera along such a difference dominates the
    score: on the selfie video it followed frame coverage instead of blur (docs/model_card.md).
    """
    if covariance not in COVARIANCES:
        raise ValueError(f"covariance must be one of {COVARIANCES}, got {covariance!r}")
    if stats.ndim != 2 or len(stats) <= stats.shape[1]:
        raise ValueError(f"need more rows than statistics to fit a Gaussian, got shape {stats.shape}")
    mean = stats.mean(axis=0)
    cov = np.cov(stats, rowvar=False)
    if covariance == "diagonal":
        cov = np.diag(np.diag(cov))
    return mean, np.linalg.inv(cov + ridge * np.eye(stats.shape[1]))


def calibrate(
    model_dir: Path,
    train_crops: np.ndarray,
    n: int = 512,
    seed: int = 0,
    samples: int = 10,
    statistics=DOSE_STATISTICS,
    covariance: str = "diagonal",
) -> dict:
    """Calibration for ``typicality`` (median chi2), ``dose`` (Gaussian of ``statistics``) and
    ``dose_flat`` (Gaussian of ``statistics`` plus :data:`FLAT_STATISTIC`).

    ``n`` random training crops are scored at ``samples`` latent samples with ``seed``; both
    Gaussians are fitted to the same crops and the same pass, so with a diagonal covariance
    ``dose_flat`` is ``dose`` minus one more squared standardised term.
    """
    statistics = tuple(statistics)
    flat_statistics = statistics if FLAT_STATISTIC in statistics else statistics + (FLAT_STATISTIC,)
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(train_crops), size=min(n, len(train_crops)), replace=False))
    runner = VAERunner(Path(model_dir) / "encoder.onnx", Path(model_dir) / "decoder.onnx")
    # column 0: standardised chi2; then the dose statistics
    table = runner.run_batches(
        train_crops[idx], lambda out, chunk: np.column_stack([standardised_chi2(out), quality_statistics(out, chunk, flat_statistics)]),
        32, samples, False, seed, columns=1 + len(flat_statistics),
    )
    chi2, stats = table[:, 0], table[:, 1:]
    mean, precision = fit_gaussian(stats[:, : len(statistics)], covariance=covariance)
    flat_mean, flat_precision = fit_gaussian(stats, covariance=covariance)
    return {
        "crops": int(len(idx)),
        "samples": samples,
        "chi2_median": float(np.median(chi2)),
        "dose_statistics": list(statistics),
        "dose_covariance": covariance,
        "dose_mean": mean.tolist(),
        "dose_precision": precision.tolist(),
        "dose_flat_statistics": list(flat_statistics),
        "dose_flat_mean": flat_mean.tolist(),
        "dose_flat_precision": flat_precision.tolist(),
    }
