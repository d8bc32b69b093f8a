"""The appearance cue's coarse colours: a gain-normalised BINS x BINS x BINS histogram of the face
box and of the band below it (neck, collar, clothes), and the distance between two of them.

Never a recognition feature (see :mod:`facesel.track_cues`): compared with the same track's last
second, or in the finaliser's re-link of two fragments that already touch in space and time.
"""

from __future__ import annotations

import numpy as np

from facesel import _core
from facesel.track_cues.sampling import (BINS, GRID, _SAME_GRID, _clip_regions, _gather, _grid, _grids, _max,
                                         _native, _sum, _twice)

_CORE_HISTOGRAMS = getattr(_core, "colour_histograms", None) if _SAME_GRID else None

# the band below the face (regions()): x1 - bw / 4, y2 + bh / 10, x2 + bw / 4, y2 + 1.1 bh
_BAND_FROM = np.array([0, 3, 2, 3])
_BAND_SCALE = np.array([-0.25, 0.1, 0.25, 1.1])


def regions(box, shape) -> tuple[tuple[int, int, int, int], tuple[int, int, int, int]]:
    """The face region (the box) and the band below it (from just under the chin down one box
    height, a quarter box wider each side: neck, collar, shoulders), clipped to the frame (at
    least one pixel row), as (x1, y1, x2, y2) ints. ``box``: 4 floats x1, y1, x2, y2; ``shape``:
    the frame's (H, W[, C])."""
    h, w = shape[:2]
    x1, y1, x2, y2 = (float(v) for v in box)
    bw, bh = x2 - x1, y2 - y1
    face = (x1, y1, x2, y2)
    band = (x1 - 0.25 * bw, y2 + 0.1 * bh, x2 + 0.25 * bw, y2 + 1.1 * bh)
    out = []
    for a, b, c, d in (face, band):
        a, b = int(max(0, min(w - 1, a))), int(max(0, min(h - 1, b)))
        c, d = int(max(a + 1, min(w, c))), int(max(b + 1, min(h, d)))
        out.append((a, b, c, d))
    return out[0], out[1]


_CODE_WEIGHTS = np.array([BINS * BINS, BINS, 1], np.intp)


def histogram(frame: np.ndarray, region) -> np.ndarray:
    """(BINS**3,) float32 colour histogram (sums to 1) of GRID x GRID pixels of ``region``."""
    x1, y1, x2, y2 = region
    pixels = frame[_grid(y1, y2)[:, None], _grid(x1, x2)[None, :]].reshape(-1, frame.shape[2] if frame.ndim == 3 else 1)
    # Gain-normalised: a change of exposure or of the light on the whole region is not a change
    # of what is there. The mean goes to the middle of a bin (160 of 128-191), so that a flat
    # region never sits on a bin edge.
    gain = (160.0 * BINS / 256.0) / max(1.0, float(pixels.mean()))
    q = np.minimum((pixels * gain).astype(np.intp), BINS - 1)
    if q.shape[1] == 1:
        codes = q[:, 0] * (BINS * BINS + BINS + 1)
    else:
        codes = q @ _CODE_WEIGHTS
    hist = np.bincount(codes, minlength=BINS ** 3).astype(np.float32)
    return hist / hist.sum()


def appearance(frame: np.ndarray, box) -> np.ndarray:
    """(2, BINS**3) float32: the histograms of the face region and of the band below it
    (:func:`histogram` of each, computed together: one gather, one count)."""
    if frame.ndim != 3:
        face, band = regions(box, frame.shape)
        return np.stack([histogram(frame, face), histogram(frame, band)])
    return appearances(frame, np.asarray(box, np.float64).reshape(1, 4))[0]


_OFFSETS: dict = {}  # boxes N -> (N, 2, 1) intp: the first bin of each region in appearances()' count


def appearances(frame: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """(N, 2, BINS**3) float32: :func:`appearance` of every box of one frame at once (one gather,
    one count for all; row k equal to ``appearance(frame, boxes[k])`` bit for bit: the same
    regions, the same integer grid, gains and counts).

    Parameters
    ----------
    frame : (H, W, 3) uint8 BGR (an (H, W) grey frame is done box by box)
    boxes : (N, 4) float, finite x1, y1, x2, y2
    """
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    n = len(boxes)
    if frame.ndim != 3 or n == 0:
        return np.stack([appearance(frame, b) for b in boxes]) if n else np.zeros((0, 2, BINS ** 3), np.float32)
    if _CORE_HISTOGRAMS is not None and _native(frame, (3,)):
        # one pass in C++ (``_core.colour_histograms``): inside the pipeline the numpy calls below
        # cost several times their arithmetic (docs/persons.md, speed); the same values
        return _CORE_HISTOGRAMS(frame, boxes)
    return appearances_numpy(frame, boxes)


def appearances_numpy(frame: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """:func:`appearances` in numpy ((H, W, 3) frame, (N, 4) float64 boxes, N >= 1): the
    definition the C++ core's histograms are checked against (``tests/test_cue_samples_core.py``),
    and the path of frames the core does not take (a view with strides, another dtype)."""
    n = len(boxes)
    # (N, 2, 4): the face (the box), then the band below it, placed and clipped as regions() does
    band = boxes[:, _BAND_FROM] + _twice(boxes[:, 2:] - boxes[:, :2]) * _BAND_SCALE
    lo, hi = _clip_regions(np.concatenate([boxes, band], axis=1).reshape(n, 2, 4), frame.shape)
    axes = _grids(lo, hi)  # (N, 2, 2, GRID): the columns, then the rows
    # (N, 2, GRID, GRID, C) -> (N, 2, GRID * GRID, C)
    pixels = _gather(frame, axes[:, :, 1, :, None], axes[:, :, 0, None, :]).reshape(n, 2, -1, frame.shape[2])
    # the mean of each region's samples (an integer sum, divided as ``mean`` does)
    gain = (160.0 * BINS / 256.0) / np.maximum(1.0, _sum(pixels, (2, 3)) / (pixels.shape[2] * pixels.shape[3]))
    q = np.minimum((pixels * gain[..., None, None]).astype(np.intp), BINS - 1)
    offsets = _OFFSETS.get(n)
    if offsets is None:  # each region's bins after the previous region's
        offsets = _OFFSETS[n] = (np.arange(2 * n) * BINS ** 3).reshape(n, 2, 1)
    codes = q @ _CODE_WEIGHTS + offsets
    hist = np.bincount(codes.reshape(-1), minlength=2 * n * BINS ** 3).astype(np.float32).reshape(n, 2, -1)
    # every region counts GRID * GRID samples: its sum, exact in float32, is that number
    return hist / np.float32(GRID * GRID)


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """The larger over the regions of 1 - histogram intersection (0: the same colours, 1: none
    shared); a region left out (all zeros) in either is not compared."""
    a, b = np.asarray(a), np.asarray(b)
    present = (a.sum(axis=-1) > 0) & (b.sum(axis=-1) > 0)
    if not present.any():
        return 0.0
    return float((1.0 - np.minimum(a, b).sum(axis=-1))[present].max())


def distance_whole(a: np.ndarray, b: np.ndarray) -> float:
    """:func:`distance` of two colours that have every region (as :func:`appearance` gives
    them: each region sums to 1), without the check for left-out regions."""
    return float(_max(1.0 - _sum(np.minimum(a, b), -1), None))
