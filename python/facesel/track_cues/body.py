"""The body below a head, without the head: a patch of shoulders and chest compared across a
face's gap (issue 23, selfie27; docs/prereg_body27.md, docs/persons.md "The body below the head
across a gap"). Measured only (``experiments/body_patch27.py``); no link reads it: every
registered rule failed its stage A.

Not a recognition feature: nothing is computed from the face; the patch holds clothes and what
lies behind them, which two people in the same clothes at the same place share, and which one
person changes by turning, moving or taking off a coat.
"""

from __future__ import annotations

import cv2
import numpy as np

BELOW = (0.25, 1.75)
"""The patch's top and bottom below the head box's bottom edge, in head heights."""

HALF_WIDTH = 1.25
"""Half the patch's width about the head's centre, in head widths."""

INSIDE = 0.4
"""Least share of the patch's rectangle inside the frame for it to count."""

TEMPLATE_SIDE = 32.0
"""Longer side (px) the grey template is shrunk to for :func:`body_ncc`."""


def body_rect(box, shape) -> tuple[int, int, int, int] | None:
    """The body patch under a head.

    ``box``: (x1, y1, x2, y2) floats, the head box; ``shape``: the frame's (H, W, ...).
    Returns (x1, y1, x2, y2) ints, the rectangle x in [cx - 1.25 w, cx + 1.25 w], y in
    [y2 + 0.25 h, y2 + 1.75 h] clipped to the frame (the head itself is never inside), or None
    when under :data:`INSIDE` of it lies in the frame or the clipped patch is under 4 px a side.
    """
    x1, y1, x2, y2 = (float(v) for v in box[:4])
    w, h, cx = x2 - x1, y2 - y1, (x1 + x2) / 2
    rx1, ry1, rx2, ry2 = cx - HALF_WIDTH * w, y2 + BELOW[0] * h, cx + HALF_WIDTH * w, y2 + BELOW[1] * h
    cx1, cy1 = max(0, int(round(rx1))), max(0, int(round(ry1)))
    cx2, cy2 = min(int(shape[1]), int(round(rx2))), min(int(shape[0]), int(round(ry2)))
    if cx2 - cx1 < 4 or cy2 - cy1 < 4:
        return None
    if (cx2 - cx1) * (cy2 - cy1) < INSIDE * (rx2 - rx1) * (ry2 - ry1):
        return None
    return cx1, cy1, cx2, cy2


def body_histogram(frame: np.ndarray, rect) -> np.ndarray:
    """(128,) float32 summing to 1: the HSV histogram (8 hue x 4 saturation x 4 value bins) of
    ``frame`` ((H, W, 3) uint8 BGR) inside ``rect`` (x1, y1, x2, y2 ints)."""
    x1, y1, x2, y2 = rect
    hsv = cv2.cvtColor(np.ascontiguousarray(frame[y1:y2, x1:x2]), cv2.COLOR_BGR2HSV)
    hist = cv2.calcHist([hsv], [0, 1, 2], None, [8, 4, 4], [0, 180, 0, 256, 0, 256]).ravel()
    return (hist / max(1.0, float(hist.sum()))).astype(np.float32)


def histogram_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Bhattacharyya distance of two (128,) float32 histograms: 0 the same, 1 disjoint."""
    return float(cv2.compareHist(a, b, cv2.HISTCMP_BHATTACHARYYA))


def body_ncc(earlier: np.ndarray, rect_a, later: np.ndarray, rect_b) -> float:
    """The best normalised cross-correlation (``TM_CCOEFF_NORMED``) of ``earlier``'s grey patch
    ``rect_a``, shrunk to at most :data:`TEMPLATE_SIDE` px on its longer side, in ``later``'s grey
    (shrunk alike) over ``rect_b`` grown by half the template on each side. Frames: (H, W, 3)
    uint8 BGR. NaN for a flat template (grey std under 2: a flat patch matches anything flat) or
    a window smaller than the template."""
    x1, y1, x2, y2 = rect_a
    scale = min(1.0, TEMPLATE_SIDE / max(x2 - x1, y2 - y1))
    grey_a = cv2.cvtColor(earlier, cv2.COLOR_BGR2GRAY)
    grey_b = cv2.cvtColor(later, cv2.COLOR_BGR2GRAY)
    tpl = cv2.resize(grey_a[y1:y2, x1:x2], None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    if min(tpl.shape) < 3 or tpl.std() < 2.0:
        return float("nan")
    small = cv2.resize(grey_b, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    bx1, by1, bx2, by2 = (v * scale for v in rect_b)
    th, tw = tpl.shape
    wx1, wy1 = max(0, int(bx1 - tw / 2)), max(0, int(by1 - th / 2))
    wx2, wy2 = min(small.shape[1], int(bx2 + tw / 2) + 1), min(small.shape[0], int(by2 + th / 2) + 1)
    window = small[wy1:wy2, wx1:wx2]
    if window.shape[0] < th or window.shape[1] < tw:
        return float("nan")
    return float(cv2.matchTemplate(window, tpl, cv2.TM_CCOEFF_NORMED).max())


def body_pair(frame_a: np.ndarray, box_a, frame_b: np.ndarray, box_b) -> dict | None:
    """{"hist": distance, "ncc": best match} of the body under ``box_a`` in ``frame_a`` against the
    body under ``box_b`` in ``frame_b`` (frames (H, W, 3) uint8 BGR); None if either has no patch."""
    ra, rb = body_rect(box_a, frame_a.shape), body_rect(box_b, frame_b.shape)
    if ra is None or rb is None:
        return None
    return {"hist": histogram_distance(body_histogram(frame_a, ra), body_histogram(frame_b, rb)),
            "ncc": body_ncc(frame_a, ra, frame_b, rb)}
