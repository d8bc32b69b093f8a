"""Which boxes stand in a crowd: a box whose face and band overlap another's shows someone
else's clothes in its band, so the colour cues are not asked there.
"""

from __future__ import annotations

import numpy as np

from facesel import _core
from facesel.track_cues.sampling import _twice

_CORE_CROWDED = getattr(_core, "crowded", None)
_CROWD_SCALE = np.array([-0.25, 0.0, 0.25, 1.1])


def crowded(boxes: np.ndarray) -> np.ndarray:
    """(N,) bool: boxes whose face and band (:func:`regions`) overlap another box's: in a crowd
    the band shows someone else's clothes, so the colour cues are not asked there.

    Parameters
    ----------
    boxes : (N, 4) float x1, y1, x2, y2
    """
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    n = len(boxes)
    if n < 2:
        return np.zeros(n, bool)
    if _CORE_CROWDED is not None:  # _touching's test in C++ (``_core.crowded``): one call, any n
        return _CORE_CROWDED(boxes)
    return crowded_numpy(boxes)


def crowded_numpy(boxes: np.ndarray) -> np.ndarray:
    """:func:`crowded` without the C++ core ((N, 4) float64, N >= 2): pair by pair in Python up
    to ``_FEW`` boxes, else in numpy; the definitions the core's test is checked against."""
    n = len(boxes)
    if n <= _FEW:  # the regions below, value for value (the same float64 operations)
        return np.array(_touching([(x1 + (x2 - x1) * -0.25, y1 + (y2 - y1) * 0.0, x2 + (x2 - x1) * 0.25,
                                    y2 + (y2 - y1) * 1.1) for x1, y1, x2, y2 in boxes.tolist()]), bool)
    # x1 - w / 4, y1, x2 + w / 4, y2 + 1.1 h
    r = boxes + _twice(boxes[:, 2:] - boxes[:, :2]) * _CROWD_SCALE
    ix = np.minimum(r[:, None, 2], r[None, :, 2]) - np.maximum(r[:, None, 0], r[None, :, 0])
    iy = np.minimum(r[:, None, 3], r[None, :, 3]) - np.maximum(r[:, None, 1], r[None, :, 1])
    touch = (ix > 0) & (iy > 0)
    np.fill_diagonal(touch, False)
    return touch.any(axis=1)


_FEW = 16
"""Boxes up to which a frame's pairs are compared in Python: a handful of numpy calls on a few
dozen pairs costs more than the pairs themselves, most of all right after the detector has
filled the caches (docs/persons.md, speed)."""


def _touching(regions: list) -> list:
    """(N,) bools: :func:`crowded`'s test on regions (N sequences x1, y1, x2, y2, float) pair by
    pair. ``min(a, b) - max(c, d) > 0`` is written as the four comparisons ``a > c``, ``a > d``,
    ``b > c``, ``b > d``: the same truth for every float (a difference of two floats is > 0
    exactly when the first is larger; either is false with a nan, as the difference is nan)."""
    wide = [x2 > x1 and y2 > y1 for x1, y1, x2, y2 in regions]
    out = [False] * len(regions)
    for i, (ax1, ay1, ax2, ay2) in enumerate(regions):
        if not wide[i]:
            continue
        for j in range(i + 1, len(regions)):
            bx1, by1, bx2, by2 = regions[j]
            if wide[j] and ax2 > bx1 and bx2 > ax1 and ay2 > by1 and by2 > ay1:
                out[i] = out[j] = True
    return out
