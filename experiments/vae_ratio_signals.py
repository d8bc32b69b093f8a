"""Per-crop VAE typicality signals of session 17's pre-registered family (issue 22, item 3).

Three untried VAE ideas, each one number a crop, higher meaning "more like a good face":

* **likelihood ratio against a complexity model** (``lr_png``, ``lr_local``): the VAE's code length
  of the aligned crop minus a generic image coder's. A plain likelihood rewards simple images (flat,
  dark, blurred crops are "typical"); the ratio asks how much better the face model explains the
  crop than a model that knows nothing about faces (Serra et al., ICLR 2020, "input complexity").
  Both in bits of the 8-bit grey crop: the VAE's Gaussian density on x / 255 gives a pixel
  ``-ll / ln 2 + log2(255)`` bits; the generic coders are a lossless PNG (``png``, in memory) and a
  local predictive model (``local``: each pixel predicted from its left, upper and upper-left
  neighbours by the median edge detector of LOCO-I, residuals coded by a Laplace law whose scale is
  fitted to the crop, ``log2(2 b) + 1 / ln 2`` bits a pixel at the maximum-likelihood scale b).
  Signal = generic bits - VAE bits.
* **per-region ratios** (``eyes_local``, ``mouth_local``): the same local-model ratio on the eye band
  (rows 20-37, :data:`facesel.scoring.pick.EYE_ROWS`) and on the mouth band (rows 45-60: the
  template's mouth corners lie on row 52.7), per pixel of the band.
* **latent typicality against frontal training faces** (``latent``): minus the squared
  standardised distance of the crop's encoder mean mu_z from the mean of frontal ``lfw/train``
  faces (a diagonal Gaussian fitted to their mu_z; frontal by :func:`facesel.eval.track_persons.frontal_mask`'s
  pose limits on the photo's own landmarks).
* ``ll`` (control, outside the family): the plain mean per-pixel log likelihood the ratios correct.

Cache: ``vae17-<tracks key>.npz`` per video in a folder of its own (numbers only, no pixels), plus
``frontal_latent.npz`` (the lfw/train reference: mean and std of mu_z, numbers only).
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

import cv2
import numpy as np

from facesel.scoring.pick import EYE_ROWS

MOUTH_ROWS = slice(45, 61)
"""Mouth band of the 64x64 crop (the template's mouth corners at row 52.7; 16 rows like the eye band's 18)."""
SIGNALS = ("lr_png", "lr_local", "eyes_local", "mouth_local", "latent")
"""The family's signals (higher: more typical of a face beyond what a generic image model expects)."""
CONTROL = "ll"
LOG2_255 = math.log2(255.0)
LN2 = math.log(2.0)


def png_bits(crops: np.ndarray) -> np.ndarray:
    """(N,) float64 bits of each (N, H, W) uint8 crop as a lossless PNG (level 9, encoded in memory)."""
    out = np.empty(len(crops))
    for i, c in enumerate(crops):
        ok, buf = cv2.imencode(".png", np.ascontiguousarray(c), [cv2.IMWRITE_PNG_COMPRESSION, 9])
        if not ok:
            raise ValueError(f"PNG encoding failed for crop {i}")
        out[i] = 8.0 * len(buf)
    return out


def med_residuals(crops: np.ndarray) -> np.ndarray:
    """(N, H-1, W-1) float64 residuals of the median-edge-detector prediction (LOCO-I) of every
    pixel but the first row and column from its left (a), upper (b) and upper-left (c) neighbours:
    min(a, b) if c >= max(a, b), max(a, b) if c <= min(a, b), else a + b - c."""
    x = np.asarray(crops, np.float64)
    a, b, c, t = x[:, 1:, :-1], x[:, :-1, 1:], x[:, :-1, :-1], x[:, 1:, 1:]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    pred = np.where(c >= hi, lo, np.where(c <= lo, hi, a + b - c))
    return t - pred


def local_bits_per_pixel(residuals: np.ndarray) -> np.ndarray:
    """(N,) float64 bits a pixel of a Laplace code of (N, ...) residuals at each crop's own
    maximum-likelihood scale b = mean |r| (floored at 0.5 grey level: an integer residual's bin
    cannot cost less than about a bit and a half at b = 0.5)."""
    b = np.maximum(np.abs(residuals).reshape(len(residuals), -1).mean(axis=1), 0.5)
    return np.log2(2.0 * b) + 1.0 / LN2


def vae_bits_per_pixel(ll: np.ndarray) -> np.ndarray:
    """(N, ...) per-pixel Gaussian log densities on x / 255 (nats) -> (N,) mean bits a pixel of the 8-bit crop."""
    return (-ll.reshape(len(ll), -1).mean(axis=1, dtype=np.float64)) / LN2 + LOG2_255


def ratio_signals(crops: np.ndarray, ll: np.ndarray) -> dict[str, np.ndarray]:
    """The complexity-corrected likelihood signals of (N, 64, 64) uint8 crops given their (N, 64, 64)
    per-pixel VAE log densities ``ll`` (nats, on x / 255): dict name -> (N,) float64, higher better.

    ``lr_png`` and ``lr_local`` in bits a pixel of the whole crop; ``eyes_local`` and ``mouth_local``
    in bits a pixel of the band (the band's residuals use its neighbours above it too)."""
    crops = np.asarray(crops, np.uint8)
    n_pix = crops.shape[1] * crops.shape[2]
    res = med_residuals(crops)  # res[:, r - 1] predicts row r
    out = {"lr_png": png_bits(crops) / n_pix - vae_bits_per_pixel(ll),
           "lr_local": local_bits_per_pixel(res) - vae_bits_per_pixel(ll[:, 1:, 1:])}
    for name, rows in (("eyes_local", EYE_ROWS), ("mouth_local", MOUTH_ROWS)):
        band_res = res[:, rows.start - 1: rows.stop - 1]
        out[name] = local_bits_per_pixel(band_res) - vae_bits_per_pixel(ll[:, rows, 1:])
    return out


def latent_typicality(mu_z: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """(N,) float64 minus the squared standardised distance of (N, D) encoder means from a (D,) reference."""
    z = (np.asarray(mu_z, np.float64) - mean) / np.maximum(std, 1e-6)
    return -np.square(z).sum(axis=1)


def vae_pass(crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One VAE pass at z = mu_z: (N, 64, 64) float32 per-pixel log densities and (N, D) float32 mu_z."""
    from facesel.scoring import VAEScorer
    from facesel.scoring.pick import _pixel_log_likelihood

    scorer = VAEScorer(method="dose", samples=1, use_mean=True, threads=1)
    lls, mus = [], []

    def keep(outputs, chunk):
        lls.append(_pixel_log_likelihood(outputs))
        mus.append(outputs.mu_z.copy())
        return np.zeros(len(chunk))

    scorer.run_batches(np.asarray(crops, np.uint8), keep)
    if not lls:
        return np.zeros((0, 64, 64), np.float32), np.zeros((0, 0), np.float32)
    return np.concatenate(lls), np.concatenate(mus)


def frontal_latent_reference(data_root: Path, cache_dir: Path, step: int = 8) -> tuple[np.ndarray, np.ndarray, int]:
    """(D,) mean and (D,) std of mu_z over the frontal faces of every ``step``-th lfw/train photo,
    and how many faces made it (cached in ``cache_dir/frontal_latent.npz``)."""
    from types import SimpleNamespace

    from facesel.align import align_face
    from facesel.faceset import list_images, locate_tight_face, read_image
    from facesel.detectors import YuNetDetector
    from facesel.eval.track_persons import frontal_mask


    f = Path(cache_dir) / "frontal_latent.npz"
    if f.is_file():
        z = np.load(f)
        return z["mean"], z["std"], int(z["n"])
    detector = YuNetDetector(min_confidence=0.5)
    crops, lms = [], []
    for _, path in list_images(Path(data_root) / "faces" / "lfw" / "train")[::step]:
        padded, box, lm, found = locate_tight_face(read_image(path), detector)
        if found and lm is not None:
            crops.append(align_face(padded, box, lm).grey)
            lms.append(lm)
    keep = frontal_mask(SimpleNamespace(landmarks=np.stack(lms), det_scores=np.ones(len(lms))))
    _, mu = vae_pass(np.stack(crops)[keep])
    mean, std = mu.mean(axis=0).astype(np.float64), mu.std(axis=0).astype(np.float64)
    np.savez(f, mean=mean, std=std, n=int(keep.sum()))
    return mean, std, int(keep.sum())


def video_vae_signals(video, cache_dir: Path, reference: tuple) -> dict[str, np.ndarray]:
    """Every signal of :data:`SIGNALS` and :data:`CONTROL` for the crops of a
    :class:`facesel.eval.track_data.VideoTracks` (loaded with its crops unless cached), plus the CPU
    seconds of each part (``cpu_vae``, ``cpu_png``, ``cpu_local``, ``cpu_latent``) and ``crops``."""
    f = Path(cache_dir) / f"vae17-{video.key}.npz"
    if f.is_file():
        z = np.load(f)
        return {k: z[k] for k in z.files}
    crops = video.crops
    t0 = time.process_time()
    ll, mu = vae_pass(crops)
    t1 = time.process_time()
    out = {"ll": ll.reshape(len(ll), -1).mean(axis=1, dtype=np.float64)}
    png_bits(crops)  # timed alone: ratio_signals encodes the PNGs again, so the local model's time is the rest
    t2 = time.process_time()
    out.update(ratio_signals(crops, ll))
    t3 = time.process_time()
    out["latent"] = latent_typicality(mu, reference[0], reference[1])
    t4 = time.process_time()
    out.update(cpu_vae=np.float64(t1 - t0), cpu_png=np.float64(t2 - t1), cpu_local=np.float64((t3 - t2) - (t2 - t1)),
               cpu_latent=np.float64(t4 - t3), crops=np.float64(len(crops)))
    tmp = f.with_suffix(f".{os.getpid()}.tmp.npz")
    np.savez(tmp, **out)
    os.replace(tmp, f)
    return out
