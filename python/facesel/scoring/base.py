"""The scorer protocol and the input check every scorer shares."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import cv2
import numpy as np


@runtime_checkable
class Scorer(Protocol):
    def score(self, crops: np.ndarray) -> np.ndarray:
        """(N, 64, 64) uint8 grey crops -> (N,) float64 quality, higher is better."""


def as_grey_batch(crops: np.ndarray, size: int = 64) -> np.ndarray:
    """Validate and normalise a batch of crops to (N, size, size) uint8 grey.

    Accepts (N, size, size) grey or (N, size, size, 3) BGR uint8 (colour is converted).
    """
    crops = np.asarray(crops)
    if crops.dtype != np.uint8:
        raise TypeError(f"crops must be uint8, got dtype {crops.dtype}")
    if crops.ndim == 4 and crops.shape[3] == 3:
        crops = np.stack([cv2.cvtColor(c, cv2.COLOR_BGR2GRAY) for c in crops]) if len(crops) else crops[..., 0]
    if crops.ndim != 3 or crops.shape[1:] != (size, size):
        raise ValueError(f"crops must have shape (N, {size}, {size}) grey or (N, {size}, {size}, 3) BGR, got {crops.shape}")
    return np.ascontiguousarray(crops)
