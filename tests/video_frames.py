"""The first frames of a shared video, decoded once per test module that asks."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from facesel.video import open_source


def first_frames(path: Path, count: int) -> list[np.ndarray]:
    """The first ``count`` frames of the video at ``path``: (H, W, 3) uint8 BGR each. OpenCV's
    own threads are set to 1 first, so that timing-free counts do not depend on the machine."""
    cv2.setNumThreads(1)
    frames = []
    for frame, _ in open_source(path):
        frames.append(frame)
        if len(frames) == count:
            break
    return frames
