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


def arcade_ceiling_and_face(root: Path) -> tuple[np.ndarray, np.ndarray]:
    """A still scene and a real face to put into it, from the arcade video (frames 50 and 100).

    Returns (background (400, 800, 3) uint8: the vault's ceiling and the crest over the door, where
    no face is found; face (210, 180, 3) uint8: a walker's face, about 100 x 130 pixels, with its
    surround), both copies.
    """
    from facesel.sources.backends import EndOfStream, FileConnection

    connection = FileConnection(root / "videos" / "arcade_walkers_1080p.mp4")
    frames = []
    try:
        while len(frames) <= 100:
            try:
                frames.append(connection.read()[0])
            except EndOfStream:
                break
    finally:
        connection.close()
    assert len(frames) > 100, "the arcade video gave fewer than 101 frames"
    return frames[50][0:400, 600:1400].copy(), frames[100][630:840, 700:880].copy()


def first_frames(path: Path, count: int) -> list[np.ndarray]:
    """The first ``count`` frames of the video at ``path``: (H, W, 3) uint8 BGR each. OpenCV's
    own threads are set to 1 first, so that timing-free counts do not depend on the machine."""
    from facesel.video import open_source

    cv2.setNumThreads(1)
    frames = []
    for frame, _ in open_source(path):
        frames.append(frame)
        if len(frames) == count:
            break
    return frames
