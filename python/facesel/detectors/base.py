"""The detector interface and the frame check every detector shares."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from facesel.types import Detections


@runtime_checkable
class Detector(Protocol):
    def detect(self, frame: np.ndarray) -> Detections:
        """(H, W, 3) uint8 BGR frame -> Detections (boxes xyxy, scores, landmarks (N, 5, 2))."""


def check_frame(frame, name: str = "frame") -> np.ndarray:
    """Validate a video frame: a (H, W, 3) uint8 BGR array with H, W >= 1 (a (H, W) grey frame is
    converted to BGR). Raises TypeError/ValueError naming the argument and what was given."""
    if frame is None:
        raise TypeError(f"{name} must be a (H, W, 3) uint8 numpy array, got None")
    if not isinstance(frame, np.ndarray):
        raise TypeError(f"{name} must be a (H, W, 3) uint8 numpy array, got {type(frame).__name__}")
    if frame.dtype != np.uint8:
        raise TypeError(f"{name} must have dtype uint8, got {frame.dtype}")
    if frame.ndim == 2:
        frame = np.repeat(frame[:, :, None], 3, axis=2)
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f"{name} must have shape (H, W, 3), got {frame.shape}")
    if frame.shape[0] < 1 or frame.shape[1] < 1:
        raise ValueError(f"{name} must not be empty, got shape {frame.shape}")
    return np.ascontiguousarray(frame)
