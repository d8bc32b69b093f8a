"""Frames of the shared videos for tests that need a handful of real images, read in place."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def spread_frames(root: Path, name: str, count: int) -> list[np.ndarray]:
    """``count`` frames spread evenly over ``root/videos/name``.

    Returns a list of (H, W, 3) uint8 BGR frames (fewer when a seek fails); asserts that at
    least one frame was read, so a missing or unreadable video fails the test that asked.
    """
    capture = cv2.VideoCapture(str(root / "videos" / name))
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or count
    frames = []
    for index in np.linspace(0, total - 1, count).astype(int):
        capture.set(cv2.CAP_PROP_POS_FRAMES, int(index))
        ok, frame = capture.read()
        if ok:
            frames.append(frame)
    capture.release()
    assert frames, f"{name} gave no frames"
    return frames
