"""Box geometry, used by the pipeline (the region search and suppression of detect/schedule.py,
select/agreement.py) as well as by the detectors' tests, the benchmarks and the evaluation."""

from __future__ import annotations

import numpy as np


def pairwise_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of every pair of boxes.

    Parameters
    ----------
    a : (N, 4) float, x1, y1, x2, y2
    b : (M, 4) float, x1, y1, x2, y2

    Returns
    -------
    (N, M) float64
        0 for disjoint boxes; boxes of zero area against themselves give NaN (0 / 0).
    """
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    lo = np.maximum(a[:, None, :2], b[None, :, :2])
    hi = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(hi - lo, 0, None), axis=2)
    area_a = np.prod(a[:, 2:] - a[:, :2], axis=1)
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=1)
    return inter / (area_a[:, None] + area_b[None, :] - inter)
