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

Every rule is a function ``(outputs, crops, calibration) -> (N,) float64`` registered in
:data:`METHODS`.
"""

from __future__ import annotations

import math
from typing import Callable

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


ScoreRule = Callable[[VAEOutputs, np.ndarray, dict], np.ndarray]

METHODS: dict[str, ScoreRule] = {
    "paper": score_paper,
    "recon_error": score_recon_error,
    "complexity_png": score_complexity_png,
    "complexity_webp": score_complexity_webp,
    "typicality": score_typicality,
}
"""Name -> scoring rule. ``VAEScorer(method=...)`` accepts these names."""
