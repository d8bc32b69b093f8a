"""Scoring rules that turn the VAE's outputs into one quality number per crop (higher is better).

``paper``
    The paper's score: the Gaussian log reconstruction probability
    ``log RP = logsumexp_l sum_i log N(x_i | mu_li, sigma_li) - log L`` (nats), through the C++ core.
``recon_error``
    Minus the squared reconstruction error, averaged over the L samples (an ablation).
``complexity_png`` / ``complexity_webp``
    The input-complexity correction of Serra et al. (ICLR 2020, "Input complexity and
    out-of-distribution detection with likelihood-based generative models"): log RP plus the
    crop's length in nats under a generic lossless compressor (PNG or lossless WebP), i.e. the log
    likelihood ratio between the face model and a generic image model.
``typicality``
    Two-sided typicality (Nalisnick et al. 2019): minus |log(chi2 / c)|, where chi2 is the mean
    squared standardised residual ((x - mu) / sigma)^2 and c its median on training faces.
    A well modelled face has residuals of the size the decoder expects; a blurred or flattened crop
    has too small ones, a noisy or occluded crop too large ones.

``dose``
    Density of states (Morningstar et al., AISTATS 2021, "Density of States Estimation for
    Out-of-Distribution Detection"): several statistics of the VAE's verdict on a crop (log RP per
    pixel, complexity at two scales, residual typicality per frequency band; see
    :data:`STATISTICS`) are computed, and the score is their log density under a Gaussian fitted
    to the same statistics of clean training faces (minus the squared Mahalanobis distance).
    Unsupervised: only clean training faces are used, never a degraded or labelled one.

Every rule is a function ``(outputs, crops, calibration) -> (N,) float64`` registered in
:data:`METHODS`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np

from facesel.core import gaussian_log_rp
from facesel.scoring.vae_runtime import VAEOutputs

_LN2 = math.log(2.0)


def score_paper(out: VAEOutputs, crops: np.ndarray, calibration: dict) -> np.ndarray:
    """log RP in nats (the paper's Gaussian log reconstruction probability)."""
    return gaussian_log_rp(out.x, out.mu_x, out.log_sigma_x)


def score_recon_error(out: VAEOutputs, crops: np.ndarray, calibration: dict) -> np.ndarray:
    """Minus the mean (over L) sum of squared errors, pixels in [0, 1]."""
    err = out.x[:, None, :] - out.mu_x
    return -np.einsum("nld,nld->nl", err, err, dtype=np.float64).mean(axis=1)


def compressed_bits(crops: np.ndarray, codec: str = "png") -> np.ndarray:
    """(N,) float64 length in bits of each (64, 64) uint8 crop under a lossless codec.

    ``png``: PNG at compression level 9; ``webp``: lossless WebP. The fixed container overhead is
    the same for every crop of one size, so it does not change rankings.
    """
    if codec == "png":
        ext, params = ".png", [cv2.IMWRITE_PNG_COMPRESSION, 9]
    elif codec == "webp":
        ext, params = ".webp", [cv2.IMWRITE_WEBP_QUALITY, 101]  # > 100 selects lossless WebP
    else:
        raise ValueError(f"codec must be 'png' or 'webp', got {codec!r}")
    bits = np.empty(len(crops), np.float64)
    for i, crop in enumerate(crops):
        ok, buf = cv2.imencode(ext, crop, params)
        if not ok:
            raise RuntimeError(f"lossless {codec} encoding failed")
        bits[i] = 8.0 * buf.size
    return bits


def score_complexity_png(out: VAEOutputs, crops: np.ndarray, calibration: dict) -> np.ndarray:
    """log RP + ln 2 * PNG bits (Serra et al. 2020's S(x), sign flipped so that higher is better)."""
    return score_paper(out, crops, calibration) + _LN2 * compressed_bits(crops, "png")


def score_complexity_webp(out: VAEOutputs, crops: np.ndarray, calibration: dict) -> np.ndarray:
    """log RP + ln 2 * lossless-WebP bits."""
    return score_paper(out, crops, calibration) + _LN2 * compressed_bits(crops, "webp")


def standardised_chi2(out: VAEOutputs) -> np.ndarray:
    """(N,) mean over samples and pixels of ((x - mu) / sigma)^2."""
    r = (out.x[:, None, :] - out.mu_x) * np.exp(-out.log_sigma_x)
    return np.einsum("nld,nld->nl", r, r, dtype=np.float64).mean(axis=1) / r.shape[2]


def score_typicality(out: VAEOutputs, crops: np.ndarray, calibration: dict) -> np.ndarray:
    """-|log(chi2 / c)| with c = calibration['chi2_median'] (1.0 when absent)."""
    c = float(calibration.get("chi2_median", 1.0))
    return -np.abs(np.log(standardised_chi2(out) / c))


def _band_chi2(out: VAEOutputs, cache: dict) -> tuple[np.ndarray, np.ndarray]:
    """(N,), (N,): mean squared standardised residual in the fine and the coarse band.

    The residual and sigma are averaged over the L samples first; the coarse band is the residual
    blurred with a Gaussian of sigma 1.5 pixels, the fine band what the blur removes.
    """
    if "band_chi2" in cache:
        return cache["band_chi2"]
    n = len(out.x)
    r = (out.x[:, None, :] - out.mu_x).mean(axis=1).reshape(n, 64, 64)
    sigma = np.exp(out.log_sigma_x).mean(axis=1).reshape(n, 64, 64)
    coarse = np.stack([cv2.GaussianBlur(q, (0, 0), 1.5) for q in r]) if n else r
    fine = r - coarse
    cache["band_chi2"] = (
        ((fine / sigma) ** 2).mean(axis=(1, 2), dtype=np.float64),
        ((coarse / sigma) ** 2).mean(axis=(1, 2), dtype=np.float64),
    )
    return cache["band_chi2"]


def _kl(out: VAEOutputs) -> np.ndarray:
    mu, ls = out.mu_z.astype(np.float64), out.log_sigma_z.astype(np.float64)
    return 0.5 * (mu**2 + np.exp(2 * ls) - 1.0 - 2 * ls).sum(axis=1)


def _stat_log_rp(out, crops, cache):
    return gaussian_log_rp(out.x, out.mu_x, out.log_sigma_x) / out.x.shape[1]


def _stat_log_png(out, crops, cache):
    return np.log(compressed_bits(crops, "png"))


def _stat_log_webp(out, crops, cache):
    return np.log(compressed_bits(crops, "webp"))


def _stat_log_png_half(out, crops, cache):
    half = [cv2.resize(c, (32, 32), interpolation=cv2.INTER_AREA) for c in crops]
    return np.log(compressed_bits(np.stack(half), "png")) if len(half) else np.zeros(0)


def _stat_log_chi2_fine(out, crops, cache):
    return np.log(_band_chi2(out, cache)[0])


def _stat_log_chi2_coarse(out, crops, cache):
    return np.log(_band_chi2(out, cache)[1])


def _stat_log_chi2(out, crops, cache):
    return np.log(standardised_chi2(out))


def _stat_log_kl(out, crops, cache):
    return np.log(_kl(out))


STATISTICS: dict[str, Callable[[VAEOutputs, np.ndarray, dict], np.ndarray]] = {
    "log_rp_per_pixel": _stat_log_rp,
    "log_png_bits": _stat_log_png,
    "log_webp_bits": _stat_log_webp,
    "log_png_bits_half": _stat_log_png_half,
    "log_chi2": _stat_log_chi2,
    "log_chi2_fine": _stat_log_chi2_fine,
    "log_chi2_coarse": _stat_log_chi2_coarse,
    "log_kl": _stat_log_kl,
}
"""Per-crop statistics of the VAE's verdict that ``dose`` can use; the model card names its set."""


def quality_statistics(out: VAEOutputs, crops: np.ndarray, names) -> np.ndarray:
    """(N, len(names)) float64: the named :data:`STATISTICS` of each crop."""
    unknown = [n for n in names if n not in STATISTICS]
    if unknown:
        raise ValueError(f"unknown statistics {unknown}; known: {sorted(STATISTICS)}")
    cache: dict = {}  # statistics of one batch share intermediate results (the band split)
    return np.stack([np.asarray(STATISTICS[n](out, crops, cache), np.float64) for n in names], axis=1)


def score_dose(out: VAEOutputs, crops: np.ndarray, calibration: dict) -> np.ndarray:
    """Minus the squared Mahalanobis distance of the crop's statistics from clean training faces'."""
    try:
        names = calibration["dose_statistics"]
        mean = np.asarray(calibration["dose_mean"], np.float64)
        precision = np.asarray(calibration["dose_precision"], np.float64)
    except KeyError as err:
        raise ValueError(f"method 'dose' needs a calibrated model card; missing {err}") from err
    d = quality_statistics(out, crops, names) - mean
    return -np.einsum("ni,ij,nj->n", d, precision, d)


ScoreRule = Callable[[VAEOutputs, np.ndarray, dict], np.ndarray]

METHODS: dict[str, ScoreRule] = {
    "paper": score_paper,
    "recon_error": score_recon_error,
    "complexity_png": score_complexity_png,
    "complexity_webp": score_complexity_webp,
    "typicality": score_typicality,
    "dose": score_dose,
}
"""Name -> scoring rule. ``VAEScorer(method=...)`` accepts these names."""
