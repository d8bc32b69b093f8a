"""Self-made image degradations at a controlled severity, for testing and evaluating quality scores.

Each kind maps ``severity`` in [0, 1] to a strength that grows with it; severity 0 returns an
unchanged copy. Strengths are given for a 64x64 face crop and scaled with the image's shorter side,
so that a degradation means the same thing on a larger crop.

========== ==========================================================================
kind        what severity s does
========== ==========================================================================
gaussian_blur  Gaussian blur, sigma = 3.5 s pixels
motion_blur    linear motion blur of length 1 + 14 s pixels at a random angle
noise          additive Gaussian noise, sigma = 60 s grey levels
darken         pixel values multiplied by 1 - 0.9 s
low_contrast   deviation from the image mean multiplied by 1 - 0.9 s
downscale      shrink by a factor 1 + 7 s (area) and enlarge back (bilinear)
occlusion      a grey rectangle covering 50 s % of the image at a random place
jpeg           JPEG re-encoding; the quantisation scale grows log-uniformly, from
               libjpeg's quality 95 (s -> 0) through 77 (s = 1/3) and 23 (2/3) to 5 (s = 1)
========== ==========================================================================
"""

from __future__ import annotations

import math
import numbers

import cv2
import numpy as np

KINDS = ("gaussian_blur", "motion_blur", "noise", "darken", "low_contrast", "downscale", "occlusion", "jpeg")
"""The degradation kinds :func:`degrade` knows, in a fixed order."""

_REFERENCE_SIDE = 64.0  # strengths below are for a 64-pixel crop


def _check_image(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise TypeError(f"image must be uint8, got dtype {image.dtype}")
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)):
        raise ValueError(f"image must have shape (H, W) or (H, W, 3), got {image.shape}")
    if image.shape[0] < 2 or image.shape[1] < 2:
        raise ValueError(f"image must be at least 2x2 pixels, got shape {image.shape}")
    return image


def _gaussian_blur(img: np.ndarray, s: float, scale: float, rng: np.random.Generator) -> np.ndarray:
    sigma = 3.5 * s * scale
    return cv2.GaussianBlur(img, (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REFLECT)


def _motion_blur(img: np.ndarray, s: float, scale: float, rng: np.random.Generator) -> np.ndarray:
    length = 1.0 + 14.0 * s * scale
    angle = rng.uniform(0.0, math.pi)
    size = int(math.ceil(length)) | 1  # odd kernel side so the line is centred
    kernel = np.zeros((size, size), np.float32)
    c = (size - 1) / 2.0
    half = (length - 1.0) / 2.0
    # Sample the segment densely so that non-integer lengths still add weight smoothly.
    for t in np.linspace(-half, half, max(2, int(8 * length))):
        x, y = c + t * math.cos(angle), c + t * math.sin(angle)
        x0, y0 = int(math.floor(x)), int(math.floor(y))
        fx, fy = x - x0, y - y0
        for dx, dy, w in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)), (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
            if 0 <= x0 + dx < size and 0 <= y0 + dy < size:
                kernel[y0 + dy, x0 + dx] += w
    kernel /= kernel.sum()
    return cv2.filter2D(img, -1, kernel, borderType=cv2.BORDER_REFLECT)


def _noise(img: np.ndarray, s: float, scale: float, rng: np.random.Generator) -> np.ndarray:
    noisy = img.astype(np.float32) + rng.normal(0.0, 60.0 * s, size=img.shape).astype(np.float32)
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


def _darken(img: np.ndarray, s: float, scale: float, rng: np.random.Generator) -> np.ndarray:
    return np.clip(np.rint(img.astype(np.float32) * (1.0 - 0.9 * s)), 0, 255).astype(np.uint8)


def _low_contrast(img: np.ndarray, s: float, scale: float, rng: np.random.Generator) -> np.ndarray:
    f = img.astype(np.float32)
    mean = f.mean(axis=(0, 1), keepdims=True)
    return np.clip(np.rint(mean + (f - mean) * (1.0 - 0.9 * s)), 0, 255).astype(np.uint8)


def _downscale(img: np.ndarray, s: float, scale: float, rng: np.random.Generator) -> np.ndarray:
    h, w = img.shape[:2]
    factor = 1.0 + 7.0 * s
    small = cv2.resize(img, (max(1, round(w / factor)), max(1, round(h / factor))), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _occlusion(img: np.ndarray, s: float, scale: float, rng: np.random.Generator) -> np.ndarray:
    h, w = img.shape[:2]
    area = 0.5 * s * h * w
    aspect = rng.uniform(0.6, 1.6)  # width / height of the occluder
    rh = int(round(min(h, math.sqrt(area / aspect))))
    rw = int(round(min(w, area / max(rh, 1))))
    out = img.copy()
    if rh == 0 or rw == 0:
        return out
    top = int(rng.integers(0, h - rh + 1))
    left = int(rng.integers(0, w - rw + 1))
    out[top : top + rh, left : left + rw] = 128  # flat mid-grey, like a hand or a sticker
    return out


def jpeg_quality(severity: float) -> int:
    """libjpeg quality for a severity in (0, 1].

    The quality number is far from linear in the quantisation it causes (libjpeg scales its tables
    by 5000 / q % below q = 50 and by 200 - 2 q % above), so a linear quality ramp spends most
    severities on invisible changes. Instead the table scale grows log-uniformly from 10 % (q 95)
    to 1000 % (q 5).
    """
    table_scale = 10.0 * 100.0**severity
    quality = 5000.0 / table_scale if table_scale > 100.0 else (200.0 - table_scale) / 2.0
    return int(np.clip(round(quality), 5, 95))


def _jpeg(img: np.ndarray, s: float, scale: float, rng: np.random.Generator) -> np.ndarray:
    quality = jpeg_quality(s)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError(f"JPEG encoding failed at quality {quality}")
    flag = cv2.IMREAD_GRAYSCALE if img.ndim == 2 else cv2.IMREAD_COLOR
    return cv2.imdecode(buf, flag)


_FUNCS = {
    "gaussian_blur": _gaussian_blur,
    "motion_blur": _motion_blur,
    "noise": _noise,
    "darken": _darken,
    "low_contrast": _low_contrast,
    "downscale": _downscale,
    "occlusion": _occlusion,
    "jpeg": _jpeg,
}


def degrade(image: np.ndarray, kind: str, severity: float, rng: np.random.Generator) -> np.ndarray:
    """Degrade one image.

    Parameters
    ----------
    image : (H, W) or (H, W, 3) uint8
        Grey or BGR image (e.g. a 64x64 aligned face crop).
    kind : str
        One of :data:`KINDS`.
    severity : float in [0, 1]
        0 returns an unchanged copy; the degradation grows with severity (see the module table).
    rng : numpy.random.Generator
        Source of the random parts (noise, motion direction, occluder place). Same seed, same output.

    Returns
    -------
    numpy.ndarray
        Same shape and dtype (uint8) as ``image``; a new array.
    """
    image = _check_image(image)
    if kind not in _FUNCS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if isinstance(severity, bool) or not isinstance(severity, numbers.Real):
        raise TypeError(f"severity must be a real number, got {type(severity).__name__}")
    severity = float(severity)
    if not (0.0 <= severity <= 1.0):
        raise ValueError(f"severity must be in [0, 1], got {severity}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    if severity == 0.0:
        return image.copy()
    scale = min(image.shape[:2]) / _REFERENCE_SIDE
    out = _FUNCS[kind](np.ascontiguousarray(image), severity, scale, rng)
    return np.ascontiguousarray(out.reshape(image.shape).astype(np.uint8, copy=False))
