"""The size and aspect cues: how much a track's box grew, shrank or changed shape between two
observations (ratios >= 1), one pair at a time or a frame's pairs at once.
"""

from __future__ import annotations

import numpy as np

from facesel import _core

_CORE_JUMPS = getattr(_core, "box_jumps", None)


def box_jumps(previous: np.ndarray, boxes: np.ndarray) -> tuple[list, list]:
    """:func:`size_jump` and :func:`aspect_jump` of many pairs at once: (N, 4) float32 previous
    boxes and boxes -> two lists of N floats, each equal to the function's value for that pair
    (the same float32 areas and float64 ratios; both sets of boxes in one pass when they share a
    dtype, as the tracker's do). Two C-contiguous float32 arrays (the tracker's) go to the C++
    core (``_core.box_jumps``: the same operations, no numpy call), others to
    :func:`box_jumps_numpy`."""
    if (_CORE_JUMPS is not None and previous.dtype == boxes.dtype == np.float32 and previous.flags.c_contiguous
            and boxes.flags.c_contiguous):
        return _CORE_JUMPS(previous, boxes)
    return box_jumps_numpy(previous, boxes)


def box_jumps_numpy(previous: np.ndarray, boxes: np.ndarray) -> tuple[list, list]:
    """:func:`box_jumps` in numpy ((N, 4) float previous boxes and boxes, any float dtype): the
    definition the C++ core's jumps are checked against (``tests/test_cue_samples_core.py``)."""
    n = len(previous)
    if previous.dtype == boxes.dtype:
        ratios = _size_aspect(np.concatenate([previous, boxes]))  # (2, 2N): sizes, aspects
        a, b = ratios[:, :n], ratios[:, n:]
    else:
        a, b = _size_aspect(previous), _size_aspect(boxes)
    jumps = (np.maximum(a, b) / np.minimum(a, b)).tolist()
    return jumps[0], jumps[1]


def _size_aspect(b: np.ndarray) -> np.ndarray:
    """(2, N) float64: each box's size sqrt(w * h) (the area in the boxes' dtype, as
    :func:`size_jump` computes it from float32 boxes) and its width-to-height ratio."""
    w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    area = w * h
    out = np.empty((2, len(b)))
    out[0] = np.where(area > 1e-9, np.sqrt(area).astype(np.float64), np.sqrt(1e-9))
    np.divide(np.maximum(1e-9, w.astype(np.float64)), np.maximum(1e-9, h.astype(np.float64)), out=out[1])
    return out


def size_jump(previous, box) -> float:
    """Ratio (>= 1) of the two boxes' sizes sqrt(w * h) (each box 4 numbers x1, y1, x2, y2)."""
    a = float(np.sqrt(max(1e-9, (previous[2] - previous[0]) * (previous[3] - previous[1]))))
    b = float(np.sqrt(max(1e-9, (box[2] - box[0]) * (box[3] - box[1]))))
    return max(a, b) / min(a, b)


def aspect_jump(previous, box) -> float:
    """Ratio (>= 1) of the two boxes' width-to-height ratios (each box 4 numbers x1, y1, x2, y2)."""
    a = max(1e-9, float(previous[2] - previous[0])) / max(1e-9, float(previous[3] - previous[1]))
    b = max(1e-9, float(box[2] - box[0])) / max(1e-9, float(box[3] - box[1]))
    return max(a, b) / min(a, b)
