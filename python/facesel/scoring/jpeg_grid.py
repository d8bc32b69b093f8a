"""JPEG quantisation seen on the photo's own 8x8 grid, before alignment (issue 22).

A block codec (JPEG, and the intra frames of MPEG-family video) cuts the photo into 8x8 blocks
starting at the photo's own pixel (0, 0), takes each block's 2-D DCT and rounds its coefficients
to multiples of a step; at a low quality most AC coefficients become exactly zero. The aligned
64x64 crop cannot see this any more (alignment shrinks and rotates the photo, so the blocks lose
their grid), but the photo can: cut it on the codec's grid and many AC coefficients are zero to
within the pixels' rounding; cut it anywhere else and the block edges fall inside the 8x8
windows, so their coefficients are not.

:func:`grid_zero_excess` measures that: the share of AC coefficients below half a grey level on
the strongest of the 64 grid placements, minus the median share over all placements. Smoothness
alone (blur, darkening, low contrast, a flat occluder) raises the share on every placement alike,
so it cancels; a photo that never went through a block codec, or whose grid another operation
erased, scores about 0. No placement is assumed, so a photo cropped after compression works too.

:func:`jpeg_grid_penalty` turns it into a score term on the scale of ``dose``: the standardised
excess above clean training photos' mean (linear, a Laplace tail; squared as a setting),
**one-sided**: a photo less compressed than the calibration photos (themselves JPEGs) is not worse
for it.
"""

from __future__ import annotations

import cv2
import numpy as np

BLOCK = 8
"""Side of a codec block (JPEG and MPEG-family intra blocks)."""
ZERO_LEVEL = 0.5
"""|DCT coefficient| below which it counts as zero: half a grey level in orthonormal DCT units. A
coefficient the codec zeroed is left only with the decoded pixels' rounding (standard deviation
0.29 in these units), so about 92 % of them fall below it. Many coefficients of integer pixels are
multiples of 1/8 (the (0, 4) basis, for one), so exactly 0.5 is common: it counts as not zero,
whatever the rounding of the sums (:data:`_TIE`)."""
_TIE = 1e-9
"""Margin below :data:`ZERO_LEVEL` so that a coefficient of exactly 0.5 is not zero on one machine
and zero on another (floating-point sums in another order)."""
MAX_SIDE = 256
"""At most the box's central MAX_SIDE x MAX_SIDE pixels are looked at: bounds the cost on large
photos (a face's centre holds its detail)."""


def _dct_matrix(n: int = BLOCK) -> np.ndarray:
    """(n, n) orthonormal DCT-II basis, rows = frequencies (the transform JPEG uses for its blocks)."""
    k = np.arange(n)
    basis = np.cos((2 * k[None, :] + 1) * k[:, None] * np.pi / (2 * n)) * np.sqrt(2.0 / n)
    basis[0] /= np.sqrt(2.0)
    return basis


_DCT = _dct_matrix()


def _check_box(box, shape) -> tuple[int, int, int, int]:
    box = np.asarray(box, np.float64)
    if box.shape != (4,) or not np.all(np.isfinite(box)):
        raise ValueError(f"box must be 4 finite numbers (x0, y0, x1, y1), got {box!r}")
    h, w = shape
    x0, y0 = max(int(np.floor(box[0])), 0), max(int(np.floor(box[1])), 0)
    x1, y1 = min(int(np.ceil(box[2])), w), min(int(np.ceil(box[3])), h)
    # The central MAX_SIDE pixels of the box (inside the photo) at most.
    if x1 - x0 > MAX_SIDE:
        x0 += (x1 - x0 - MAX_SIDE) // 2
        x1 = x0 + MAX_SIDE
    if y1 - y0 > MAX_SIDE:
        y0 += (y1 - y0 - MAX_SIDE) // 2
        y1 = y0 + MAX_SIDE
    return x0, y0, x1, y1


def zero_share_by_placement(image: np.ndarray, box) -> np.ndarray:
    """(8, 8) float64: for each grid placement (row, column of the photo modulo 8), the share of AC
    DCT coefficients of the 8x8 blocks inside ``box`` whose magnitude is below :data:`ZERO_LEVEL`.

    Parameters
    ----------
    image : (H, W) or (H, W, 3) uint8
        The photo as decoded (grey, or BGR converted with OpenCV's luma weights, about JPEG's Y).
    box : 4 numbers
        (x0, y0, x1, y1) of the face in the photo's own pixel coordinates; clipped to the photo.

    Placements whose box holds no whole block are NaN.
    """
    image = np.asarray(image)
    if image.dtype != np.uint8 or not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)):
        raise ValueError(f"image must be (H, W) or (H, W, 3) uint8, got {image.shape} {image.dtype}")
    grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    x0, y0, x1, y1 = _check_box(box, grey.shape)
    region = grey[y0:y1, x0:x1].astype(np.float64)
    height, width = region.shape
    out = np.full((BLOCK, BLOCK), np.nan)
    for col in range(BLOCK):
        left = (col - x0) % BLOCK  # first column of this placement inside the region
        n_x = max(width - left, 0) // BLOCK
        if n_x == 0:
            continue
        # The 2-D DCT is separable: the horizontal pass of a column placement serves all 8 row placements.
        rows = region[:, left : left + n_x * BLOCK].reshape(height, n_x, BLOCK) @ _DCT.T
        for row in range(BLOCK):
            top = (row - y0) % BLOCK
            n_y = max(height - top, 0) // BLOCK
            if n_y == 0:
                continue
            blocks = rows[top : top + n_y * BLOCK].reshape(n_y, BLOCK, n_x, BLOCK)
            zero = np.abs(np.tensordot(_DCT, blocks, axes=([1], [1]))) < ZERO_LEVEL - _TIE  # (u, n_y, n_x, v)
            ac_zero = int(zero.sum()) - int(zero[0, :, :, 0].sum())  # the DC coefficient left out
            out[row, col] = ac_zero / (n_y * n_x * (BLOCK * BLOCK - 1))
    return out


def grid_zero_excess(image: np.ndarray, box) -> float:
    """The codec-grid excess of zeroed AC coefficients of one face: max minus median over the 64
    placements of :func:`zero_share_by_placement` (0 when some placement holds no whole block: a box
    under about 16 pixels a side). In [0, 1]; about 0.27 on clean lfw/train photos (JPEG quality 95),
    0.44 at quality 77, 0.65 at quality 5 (40 lfw/train photos)."""
    shares = zero_share_by_placement(image, box)
    if np.isnan(shares).any():
        return 0.0
    return float(shares.max() - np.median(shares))


TAILS = ("laplace", "gaussian")
"""How :func:`jpeg_grid_penalty` grows with the standardised excess z: ``laplace`` (the default) z,
``gaussian`` z^2."""


def jpeg_grid_penalty(excess: np.ndarray, calibration: dict, tail: str = "laplace") -> np.ndarray:
    """(N,) float64 >= 0: the standardised excess z = (excess - mean) / std above clean training
    photos' mean (``calibration['jpeg_grid_mean']``, ``['jpeg_grid_std']``), 0 where it is below
    (one-sided); ``tail="laplace"`` gives z, ``"gaussian"`` z^2.

    Why linear by default (chosen on lfw/train): the clean spread is that of LFW photos that all went
    through one quality-95 encoder (0.032), so z reaches 5 at quality 77 and 12 at quality 5; squared,
    the term outweighed every other degradation and spent the error-versus-reject budget on JPEG
    copies, which barely hurt a matcher (EDC gain at 20 % -0.18 [-0.27, -0.11] against dose_flat,
    lfw/train); linear, it orders JPEG copies (Spearman -0.87 against -0.68) at no EDC cost.
    """
    if tail not in TAILS:
        raise ValueError(f"tail must be one of {TAILS}, got {tail!r}")
    try:
        mean, std = float(calibration["jpeg_grid_mean"]), float(calibration["jpeg_grid_std"])
    except KeyError as err:
        raise ValueError(f"the JPEG grid term needs a calibrated model card; missing {err}") from err
    z = np.maximum(np.asarray(excess, np.float64) - mean, 0.0) / std
    return z if tail == "laplace" else np.square(z)


def calibrate_jpeg_grid(excess: np.ndarray) -> dict:
    """``{"jpeg_grid_mean", "jpeg_grid_std", "jpeg_grid_photos"}`` of the :func:`grid_zero_excess`
    values of clean training photos (the keys :func:`jpeg_grid_penalty` reads)."""
    excess = np.asarray(excess, np.float64)
    if excess.ndim != 1 or len(excess) < 2 or not np.all(np.isfinite(excess)):
        raise ValueError(f"excess must be at least 2 finite values, got shape {excess.shape}")
    return {"jpeg_grid_mean": float(excess.mean()), "jpeg_grid_std": float(excess.std(ddof=1)), "jpeg_grid_photos": len(excess)}
