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
    pixel, complexity at two scales, residual typicality per frequency band, block artefacts in
    the residual, directional and relative detail; see :data:`STATISTICS`) are computed, and the
    score is their log density under a Gaussian fitted to the same statistics of clean training
    faces (minus the squared Mahalanobis distance).
    Unsupervised: only clean training faces are used, never a degraded or labelled one.

``dose_flat`` (the stills default for a crop: ``VAEScorer.default()``; ``facesel score`` adds the photo's
JPEG grid term to it, :class:`facesel.scoring.stills.PhotoScorer`)
    ``dose`` with one more statistic in its Gaussian: the share of exactly flat 3x3 patches in the
    crop's centre (:func:`flat_fraction`). A photo compressed hard before alignment reaches the
    crop as patches of one grey level each (its 8x8 blocks lose their detail and, shrunk about
    twice by alignment, become ~4-pixel plateaus); a clean face has almost none, since sensor
    noise and skin texture move neighbouring pixels. ``dose`` alone barely notices such a photo
    (its statistics look for the crop's own 8-pixel grid). Same pass, same calibration crops;
    ``dose`` stays as it was (the video rule and the earlier stills default).

Every rule is a function ``(outputs, crops, calibration) -> (N,) float64`` registered in
:data:`METHODS`: ``outputs`` the :class:`facesel.scoring.vae_runtime.VAEOutputs` of ``crops``
((N, 64, 64) uint8 grey, the same batch), ``calibration`` the model's calibration dict (the
rule's own keys, e.g. ``dose_*``; rules that need none ignore it).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np

from facesel.scoring.vae_runtime import VAEOutputs

_LN2 = math.log(2.0)


def score_paper(out: VAEOutputs, crops: np.ndarray, calibration: dict) -> np.ndarray:
    """log RP in nats (the paper's Gaussian log reconstruction probability)."""
    return out.log_rp()


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
    r = _mean_residual(out, cache)
    sigma = np.exp(out.log_sigma_x).mean(axis=1).reshape(n, 64, 64)
    coarse = np.stack([cv2.GaussianBlur(q, (0, 0), 1.5) for q in r]) if n else r
    fine = r - coarse
    cache["band_chi2"] = (
        ((fine / sigma) ** 2).mean(axis=(1, 2), dtype=np.float64),
        ((coarse / sigma) ** 2).mean(axis=(1, 2), dtype=np.float64),
    )
    return cache["band_chi2"]


def _mean_residual(out: VAEOutputs, cache: dict) -> np.ndarray:
    """(N, 64, 64) float32: x - mu_x averaged over the L samples (what the face model leaves unexplained)."""
    if "mean_residual" not in cache:
        cache["mean_residual"] = (out.x[:, None, :] - out.mu_x).mean(axis=1).reshape(-1, 64, 64)
    return cache["mean_residual"]


BLOCK = 8
"""Side of a JPEG / MPEG transform block in pixels."""


def blockiness(images: np.ndarray) -> np.ndarray:
    """(N,) float64 strength of an 8-pixel block grid in (N, H, W) images, whatever its phase.

    Block codecs quantise each 8x8 block on its own, so at strong compression neighbouring blocks
    disagree and a step appears on every 8th row and column. For each of the 8 phases p, the
    discontinuity across the pixel pairs (8k + p, 8k + p + 1) is measured as the absolute step
    minus the mean absolute step of the two neighbouring pairs (a second difference, so a smooth
    ramp or a natural edge costs little), averaged over rows and columns. The statistic is the
    strongest phase minus the median phase: near 0 without a grid, large with one, and it does not
    matter where the grid starts in the crop. A no-reference blockiness measure in the spirit of
    Wang, Bovik & Evans, "Blind measurement of blocking artifacts in images", ICIP 2000.
    """
    img = np.asarray(images, np.float64)
    if img.ndim != 3 or min(img.shape[1:]) < 2 * BLOCK + 2:
        raise ValueError(f"images must have shape (N, H, W) with H, W >= {2 * BLOCK + 2}, got {img.shape}")
    steps = {1: np.abs(np.diff(img, axis=1)), 2: np.abs(np.diff(img, axis=2))}  # step between i and i + 1
    per_phase = np.zeros((len(img), BLOCK))
    for axis, step in steps.items():
        n = step.shape[axis]
        for p in range(BLOCK):
            at = np.arange(p, n, BLOCK)
            at = at[(at > 0) & (at < n - 1)]  # both neighbouring pairs must exist
            centre = step.take(at, axis=axis)
            around = 0.5 * (step.take(at - 1, axis=axis) + step.take(at + 1, axis=axis))
            per_phase[:, p] += (centre - around).mean(axis=(1, 2))
    return per_phase.max(axis=1) - np.median(per_phase, axis=1)


def directional_energy(images: np.ndarray) -> np.ndarray:
    """(N, 4) float64 mean squared difference between neighbours of (N, H, W) images, per direction.

    Directions: horizontal, vertical and the two diagonals (diagonal steps are sqrt(2) long, so
    their squared differences are halved to compare with the others).
    """
    img = np.asarray(images, np.float64)
    return np.stack(
        [
            (np.diff(img, axis=2) ** 2).mean(axis=(1, 2)),
            (np.diff(img, axis=1) ** 2).mean(axis=(1, 2)),
            ((img[:, 1:, 1:] - img[:, :-1, :-1]) ** 2).mean(axis=(1, 2)) / 2,
            ((img[:, 1:, :-1] - img[:, :-1, 1:]) ** 2).mean(axis=(1, 2)) / 2,
        ],
        axis=1,
    )


FLAT_WINDOW = 3
"""Side of the patches :func:`flat_fraction` looks at."""
FLAT_MARGIN = 8
"""Pixels left out at each crop edge by :func:`flat_fraction`: a tight photo padded for detection
reaches the crop's border as replicated streaks, which are not the face."""


def flat_fraction(crops: np.ndarray) -> np.ndarray:
    """(N,) float64 share of the (N, 64, 64) uint8 crops' central pixels whose 3x3 patch is one grey level.

    Central: :data:`FLAT_MARGIN` pixels left out at each edge (48x48 pixels for a 64x64 crop). One
    grey level: maximum minus minimum of the patch is 0 (uint8 crops, so an exact test). It grows
    when a block codec flattened the photo before alignment, and also with blur, darkening and
    flattened contrast; noise drives it to 0.
    """
    crops = np.asarray(crops)
    if crops.ndim != 3 or crops.dtype != np.uint8 or min(crops.shape[1:]) <= 2 * FLAT_MARGIN + FLAT_WINDOW:
        raise ValueError(f"crops must be (N, H, W) uint8 with H, W > {2 * FLAT_MARGIN + FLAT_WINDOW}, got {crops.shape} {crops.dtype}")
    kernel = np.ones((FLAT_WINDOW, FLAT_WINDOW), np.uint8)
    m = FLAT_MARGIN
    out = np.empty(len(crops), np.float64)
    for i, crop in enumerate(crops):
        spread = cv2.dilate(crop, kernel) - cv2.erode(crop, kernel)  # max - min of each 3x3 patch
        out[i] = float((spread[m:-m, m:-m] == 0).mean())
    return out


_FLAT = 1e-3
"""Squared grey levels added to energies so that a perfectly flat crop gives a finite logarithm."""


def _kl(out: VAEOutputs) -> np.ndarray:
    mu, ls = out.mu_z.astype(np.float64), out.log_sigma_z.astype(np.float64)
    return 0.5 * (mu**2 + np.exp(2 * ls) - 1.0 - 2 * ls).sum(axis=1)


def _stat_log_rp(out, crops, cache):
    return out.log_rp() / out.x.shape[1]


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


def _stat_residual_blockiness(out, crops, cache):
    # In grey levels (x is pixels / 255), so that the figure reads like a step in the image.
    return blockiness(255.0 * _mean_residual(out, cache))


def _crop_energy(crops: np.ndarray, cache: dict) -> np.ndarray:
    """(N, 4) :func:`directional_energy` of the crops, computed once per batch."""
    if "crop_energy" not in cache:
        cache["crop_energy"] = directional_energy(crops)
    return cache["crop_energy"]


def _stat_log_anisotropy(out, crops, cache):
    # Motion blur removes detail along one direction only: the weakest direction's energy falls
    # against the strongest's, whichever way the camera moved.
    energy = _crop_energy(crops, cache) + _FLAT
    return np.log(energy.min(axis=1) / energy.max(axis=1))


def _stat_log_gradient_ratio(out, crops, cache):
    # Detail in the crop against detail in the VAE's mean reconstruction of it. The mean
    # reconstruction is x minus the mean residual, which the batch has already computed.
    mean_recon = 255.0 * (out.x.reshape(-1, 64, 64) - _mean_residual(out, cache))
    crop_detail = _crop_energy(crops, cache).sum(axis=1) + _FLAT
    return np.log(crop_detail / (directional_energy(mean_recon).sum(axis=1) + _FLAT))


def _stat_log_flat_fraction(out, crops, cache):
    # One flat patch of the 48x48 centre added, so that a crop without any gives a finite logarithm.
    central = (crops.shape[1] - 2 * FLAT_MARGIN) * (crops.shape[2] - 2 * FLAT_MARGIN)
    return np.log((flat_fraction(crops) * central + 1.0) / (central + 1.0))


STATISTICS: dict[str, Callable[[VAEOutputs, np.ndarray, dict], np.ndarray]] = {
    "log_rp_per_pixel": _stat_log_rp,
    "log_png_bits": _stat_log_png,
    "log_webp_bits": _stat_log_webp,
    "log_png_bits_half": _stat_log_png_half,
    "log_chi2": _stat_log_chi2,
    "log_chi2_fine": _stat_log_chi2_fine,
    "log_chi2_coarse": _stat_log_chi2_coarse,
    "log_kl": _stat_log_kl,
    "residual_blockiness": _stat_residual_blockiness,
    "log_anisotropy": _stat_log_anisotropy,
    "log_gradient_ratio": _stat_log_gradient_ratio,
    "log_flat_fraction": _stat_log_flat_fraction,
}
"""Per-crop statistics of the VAE's verdict that ``dose`` can use; the model card names its set."""


def quality_statistics(out: VAEOutputs, crops: np.ndarray, names) -> np.ndarray:
    """(N, len(names)) float64: the named :data:`STATISTICS` of each crop."""
    unknown = [n for n in names if n not in STATISTICS]
    if unknown:
        raise ValueError(f"unknown statistics {unknown}; known: {sorted(STATISTICS)}")
    cache: dict = {}  # statistics of one batch share intermediate results (the band split)
    return np.stack([np.asarray(STATISTICS[n](out, crops, cache), np.float64) for n in names], axis=1)


def _mahalanobis_rule(out: VAEOutputs, crops: np.ndarray, calibration: dict, prefix: str) -> np.ndarray:
    """Minus the squared Mahalanobis distance of the statistics ``calibration[prefix + '_statistics']``
    from their clean-face Gaussian (``prefix + '_mean'``, ``prefix + '_precision'``)."""
    try:
        names = calibration[f"{prefix}_statistics"]
        mean = np.asarray(calibration[f"{prefix}_mean"], np.float64)
        precision = np.asarray(calibration[f"{prefix}_precision"], np.float64)
    except KeyError as err:
        raise ValueError(f"method {prefix!r} needs a calibrated model card; missing {err}") from err
    d = quality_statistics(out, crops, names) - mean
    return -np.einsum("ni,ij,nj->n", d, precision, d)


CHEAP_CROP_STATISTICS = ("log_png_bits_half", "log_anisotropy")
"""Statistics of :data:`STATISTICS` made from the crop alone, without the VAE, in tens of
microseconds a crop (the crop's lossless WebP and full-size PNG lengths are left out: about a
millisecond each, a fifth of a whole L = 1 score)."""


def mahalanobis_ceiling(crops: np.ndarray, calibration: dict, prefix: str = "dose") -> np.ndarray | None:
    """(N,) float64: the highest score the Mahalanobis rule ``prefix`` (``dose``, ``dose_flat``)
    can give each crop, knowing only its :data:`CHEAP_CROP_STATISTICS` (no VAE pass). None when the
    calibration lacks the rule or the rule uses none of them.

    The score is -d'Pd over the statistics' deviations d from the clean-face mean (P the
    precision). Over every value the unknown deviations d_u could take, its largest value is
    -d_k' S_kk^-1 d_k, with d_k the known deviations and S_kk their block of the covariance
    P^-1 (the Schur complement of P_uu in P): an upper bound of the score, exact up to rounding.
    Used to order the crops of the not-a-face vote, which stops at the first crop that clears
    its floor (:class:`facesel.select.face_vote.DoseFaceVote`); never used as a score.

    Parameters
    ----------
    crops : (N, 64, 64) uint8 grey crops
    calibration : the model card's calibration (``<prefix>_statistics``, ``_mean``, ``_precision``)
    """
    try:
        names = list(calibration[f"{prefix}_statistics"])
        mean = np.asarray(calibration[f"{prefix}_mean"], np.float64)
        precision = np.asarray(calibration[f"{prefix}_precision"], np.float64)
    except KeyError:
        return None
    known = [names.index(n) for n in CHEAP_CROP_STATISTICS if n in names]
    if not known:
        return None
    crops = np.asarray(crops)
    d = np.stack([np.asarray(STATISTICS[names[k]](None, crops, {}), np.float64) for k in known], axis=1) - mean[known]
    covariance = np.linalg.inv(precision)[np.ix_(known, known)]
    return -np.einsum("ni,ij,nj->n", d, np.linalg.inv(covariance), d)


def score_dose(out: VAEOutputs, crops: np.ndarray, calibration: dict) -> np.ndarray:
    """Minus the squared Mahalanobis distance of the crop's statistics from clean training faces'."""
    return _mahalanobis_rule(out, crops, calibration, "dose")


def score_dose_flat(out: VAEOutputs, crops: np.ndarray, calibration: dict) -> np.ndarray:
    """:func:`score_dose` over dose's statistics plus ``log_flat_fraction`` (keys ``dose_flat_*``)."""
    return _mahalanobis_rule(out, crops, calibration, "dose_flat")


ScoreRule = Callable[[VAEOutputs, np.ndarray, dict], np.ndarray]

METHODS: dict[str, ScoreRule] = {
    "paper": score_paper,
    "recon_error": score_recon_error,
    "complexity_png": score_complexity_png,
    "complexity_webp": score_complexity_webp,
    "typicality": score_typicality,
    "dose": score_dose,
    "dose_flat": score_dose_flat,
}
"""Name -> scoring rule. ``VAEScorer(method=...)`` accepts these names."""
