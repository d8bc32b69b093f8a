"""Raw MJPEG files whose frames change size, for the later-frame bomb tests (review 10a, round 11).

Grey JPEGs only (no face data), written to a folder the test gives (a tmp folder). A raw MJPEG
stream has no container header: FFmpeg's probe and OpenCV learn its size from the first frame, so
every reader states the first frame's size, and a later frame is whatever the file's maker chose.
"""

from __future__ import annotations

import cv2
import numpy as np

SMALL = (640, 480)


def jpeg(width: int, height: int, level: int) -> bytes:
    """A grey JPEG of ``width`` x ``height`` (16000 x 16000 is about 3 MB on disk, 256 MB of luma decoded)."""
    return cv2.imencode(".jpg", np.full((height, width), level, np.uint8))[1].tobytes()


def growing_mjpeg(path, odd: tuple[int, int]):
    """Three 640 x 480 frames, one of ``odd`` size, two more of 640 x 480: a raw MJPEG stream
    (FFmpeg's probe and OpenCV's header both state 640 x 480). Returns ``path``."""
    small = jpeg(*SMALL, 100)
    path.write_bytes(small * 3 + jpeg(*odd, 128) + small * 2)
    return path
