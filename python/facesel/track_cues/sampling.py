"""The pixel samples every switch cue reads: a fixed GRID x GRID grid over a region, gathered
from the frame in one ``take``, and the pinned-logo cue's grey patches in the middle of each box.

The C++ core (``cpp/src/cue_samples.cpp``) computes the same samples in one pass when its grid and
bins are these (``_SAME_GRID``); the ``*_numpy`` functions are the definitions it is checked
against (``tests/test_cue_samples_core.py``) and the path of frames it does not take.
"""

from __future__ import annotations

import numpy as np

from facesel import _core

GRID = 12
"""Pixels sampled per side of each region (GRID x GRID per region)."""
BINS = 4
"""Levels per colour channel of the histogram (BINS ** 3 bins)."""

# The C++ core's samplers (cpp/src/cue_samples.cpp), used when its grid and bins are these; None
# in a core built before them, whose callers then take the numpy definitions (the same values).
_SAME_GRID = (getattr(_core, "CUE_GRID", None), getattr(_core, "CUE_BINS", None)) == (GRID, BINS)
_CORE_GREY = getattr(_core, "grey_samples", None) if _SAME_GRID else None
_CORE_PINNED = getattr(_core, "pinned_patches", None) if _SAME_GRID else None


def _native(frame: np.ndarray, ranks: tuple) -> bool:
    """Whether the core samples ``frame`` as it is: C-contiguous uint8, of a rank in ``ranks``
    (2: (H, W); 3: (H, W, 3)); the core never copies a frame."""
    return (frame.dtype == np.uint8 and frame.flags.c_contiguous and frame.ndim in ranks
            and (frame.ndim == 2 or frame.shape[2] == 3))


def _twice(pairs: np.ndarray) -> np.ndarray:
    """(N, 2) -> (N, 4): each row twice over (w, h, w, h); ``np.tile`` without its Python."""
    return np.concatenate([pairs, pairs], axis=1)


_sum, _max = np.add.reduce, np.maximum.reduce
"""``ndarray.sum`` and ``ndarray.max`` without their Python wrappers (the same reductions)."""


_STEPS = np.arange(GRID)


def _grid(lo: int, hi: int) -> np.ndarray:
    """GRID indices spread evenly over [lo, hi - 1] (integer arithmetic: cheaper than linspace)."""
    return lo + (_STEPS * max(0, hi - 1 - lo)) // (GRID - 1)


def _grids(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """:func:`_grid` of every pair of an array of ``lo`` and one of ``hi`` (int, any shape S):
    (*S, GRID) indices."""
    return lo[..., None] + (_STEPS * np.maximum(0, hi - 1 - lo)[..., None]) // (GRID - 1)


def _sample_axes(shape, region) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols), GRID each, of the sample grid over ``region`` (x1, y1, x2, y2) clipped to the frame."""
    h, w = shape[:2]
    x1, y1, x2, y2 = region
    x1, y1 = max(0, min(w - 1, x1)), max(0, min(h - 1, y1))
    x2, y2 = max(x1 + 1, min(w, x2)), max(y1 + 1, min(h, y2))
    return _grid(y1, y2), _grid(x1, x2)


def grey_samples(frame: np.ndarray, *regions) -> np.ndarray:
    """Levels of ``frame``'s green channel (its grey, near enough) on a GRID x GRID grid over each
    region (x1, y1, x2, y2, clipped to the frame): (GRID * GRID,) float32 for one region,
    (len(regions), GRID * GRID) for several (one gather)."""
    plane = frame[..., 1] if frame.ndim == 3 else frame
    axes = [_sample_axes(frame.shape, r) for r in regions]
    if len(axes) == 1:
        rows, cols = axes[0]
        return plane[rows[:, None], cols[None, :]].astype(np.float32).reshape(-1)
    rows = np.stack([a[0] for a in axes])[:, :, None]
    cols = np.stack([a[1] for a in axes])[:, None, :]
    return plane[rows, cols].astype(np.float32).reshape(len(axes), -1)


def _gather(frame: np.ndarray, rows: np.ndarray, cols: np.ndarray, channel: int | None = None) -> np.ndarray:
    """``frame[rows, cols]`` (or of one ``channel``) for broadcastable int index arrays: one
    ``take`` on the flat frame when it is contiguous (cheaper than indexing by two arrays)."""
    if not frame.flags.c_contiguous:
        plane = frame if channel is None or frame.ndim == 2 else frame[..., channel]
        return plane[rows, cols]
    flat = rows * frame.shape[1] + cols
    if frame.ndim == 2:
        return frame.reshape(-1).take(flat)
    channels = frame.shape[2]
    if channel is None:  # whole pixels: a take of rows along axis 0 (numpy 2.4: about 3 times
        # cheaper than a take of single bytes by their own indices, and no (..., C) index array)
        return frame.reshape(-1, channels).take(flat, axis=0)
    return frame.reshape(-1).take(flat * channels + channel)


def _clip_regions(regions: np.ndarray, shape) -> tuple[np.ndarray, np.ndarray]:
    """((..., 2) lo, (..., 2) hi) intp: regions (..., 4) x1, y1, x2, y2 (int or float) clipped to
    a frame of ``shape`` as :func:`regions` and :func:`_sample_axes` clip them (at least one
    pixel; a float truncated towards zero after clipping, as ``int`` does)."""
    h, w = shape[:2]
    lo = np.maximum(0, np.minimum((w - 1, h - 1), regions[..., :2])).astype(np.intp)
    hi = np.maximum(lo + 1, np.minimum((w, h), regions[..., 2:])).astype(np.intp)
    return lo, hi


def grey_samples_many(frame: np.ndarray, regions: np.ndarray) -> np.ndarray:
    """:func:`grey_samples` of many regions at once, with no Python per region: (K, 4) int
    regions (x1, y1, x2, y2) -> (K, GRID * GRID) float32, row k equal to ``grey_samples(frame,
    regions[k])`` (the same clipping and grid, integer arithmetic). A C-contiguous uint8 frame
    (H, W) or (H, W, 3) is sampled by the C++ core (``_core.grey_samples``: one pass, no numpy
    call; the same values), any other by :func:`grey_samples_numpy`."""
    regions = np.asarray(regions, np.intp).reshape(-1, 4)
    if _CORE_GREY is not None and _native(frame, (2, 3)):
        return _CORE_GREY(frame, regions)
    return grey_samples_numpy(frame, regions)


def grey_samples_numpy(frame: np.ndarray, regions: np.ndarray) -> np.ndarray:
    """:func:`grey_samples_many` in numpy ((K, 4) intp regions): the definition the C++ core's
    samples are checked against (``tests/test_cue_samples_core.py``), and the path of frames the
    core does not take (a view with strides, another dtype)."""
    lo, hi = _clip_regions(regions, frame.shape)
    axes = _grids(lo, hi)  # (K, 2, GRID): the columns, then the rows
    samples = _gather(frame, axes[:, 1, :, None], axes[:, 0, None, :], 1 if frame.ndim == 3 else None)
    return samples.astype(np.float32).reshape(len(regions), -1)


def middle_regions(boxes: np.ndarray) -> np.ndarray:
    """(N, 4) intp: the middle of each box, a fifth in from each side (x1, y1, x2, y2 truncated
    towards zero, as ``int``), where the pinned-logo cue samples the box (a box larger than the
    logo it sits on shows the moving scene at its edges). ``boxes``: (N, 4) float."""
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    inset = _twice(0.2 * (b[:, 2:] - b[:, :2]))  # dx, dy, dx, dy
    return (b + inset * _INWARD).astype(np.intp)


def pinned_patches(frame: np.ndarray, boxes: np.ndarray, previous_regions: np.ndarray,
                   previous_patches: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pinned-logo cue's samples of one frame, in one pass: (regions, patches, under).

    Parameters
    ----------
    frame : (H, W[, 3]) uint8
    boxes : (N, 4) float32, this frame's boxes
    previous_regions : (K, 4) intp, regions sampled on an earlier frame
    previous_patches : (K, GRID * GRID) float32, their samples then (whole grey levels)

    Returns
    -------
    regions : (N, 4) intp, :func:`middle_regions` of ``boxes``
    patches : (N, GRID * GRID) float32, their :func:`grey_samples_many`
    under : (K,) float32, the mean absolute difference of each previous region's samples on this
        frame to its patch (the sum of whole grey levels is exact, so each row's mean is the one
        of that row alone)

    A C-contiguous uint8 frame and finite float32 boxes go to the C++ core
    (``_core.pinned_patches``; the same values), others to :func:`pinned_patches_numpy`.
    """
    if _CORE_PINNED is not None and boxes.dtype == np.float32 and _native(frame, (2, 3)):
        try:
            return _CORE_PINNED(frame, boxes, previous_regions, previous_patches)
        except ValueError:  # a non-finite box: numpy's own (nan -> integer) rules apply
            pass
    return pinned_patches_numpy(frame, boxes, previous_regions, previous_patches)


def pinned_patches_numpy(frame, boxes, previous_regions, previous_patches):
    """:func:`pinned_patches` in numpy (the same arguments and results, any frame layout): the
    definition the C++ core's are checked against."""
    regions = middle_regions(boxes)
    k = len(previous_regions)
    if not k:
        return regions, grey_samples_many(frame, regions), np.zeros(0, np.float32)
    samples = grey_samples_many(frame, np.concatenate([np.asarray(previous_regions, np.intp).reshape(-1), regions.reshape(-1)]))
    under = np.abs(samples[:k] - previous_patches).sum(axis=1) / np.float32(previous_patches.shape[1])
    return regions, samples[k:], under


_INWARD = np.array([1.0, 1.0, -1.0, -1.0])
