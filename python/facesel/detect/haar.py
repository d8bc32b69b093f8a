"""Viola-Jones Haar cascade (OpenCV's frontal-face default): the fallback that needs nothing but
OpenCV below version 5. It gives boxes only, no landmarks, so faces are aligned from the box."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from facesel.detect.base import check_frame, check_max_side, check_number, shrink
from facesel.types import Detections

CASCADE_NAME = "haarcascade_frontalface_default.xml"


def cascade_path() -> Path:
    """Path of OpenCV's bundled frontal-face cascade; FileNotFoundError when this OpenCV has none
    (the OpenCV 5 wheels ship no cascades)."""
    folder = getattr(getattr(cv2, "data", None), "haarcascades", None)
    path = Path(folder) / CASCADE_NAME if folder else None
    if path is None or not path.is_file():
        raise FileNotFoundError(
            f"OpenCV {cv2.__version__} ships no {CASCADE_NAME} (cv2.data.haarcascades is "
            f"{folder!r}); the Haar detector needs opencv-python(-headless) below 5, or use "
            "the 'yunet' or 'mtcnn' detector"
        )
    return path


class HaarDetector:
    """OpenCV's Haar cascade face detector (Viola and Jones, 2001).

    Parameters
    ----------
    scale_factor : float > 1
        Step between the scales of the image pyramid.
    min_neighbors : int >= 0
        Overlapping raw detections a face needs to be kept (higher: fewer false faces).
    min_size : int >= 1
        Smallest face side searched for, in pixels of the (possibly shrunk) image.
    max_side : int >= 32 or None
        Shrink frames whose longer side exceeds it before detection (boxes are mapped back).

    Notes
    -----
    ``scores`` are the logistic of the cascade's final-stage margin (``levelWeights`` of
    ``detectMultiScale3``): monotone in the cascade's confidence and in (0, 1), but not a
    calibrated probability. ``landmarks`` is None.
    """

    def __init__(
        self,
        scale_factor: float = 1.1,
        min_neighbors: int = 5,
        min_size: int = 24,
        max_side: int | None = None,
    ):
        self.scale_factor = check_number(scale_factor, "scale_factor", low=1.0, low_open=True)
        self.min_neighbors = check_number(min_neighbors, "min_neighbors", low=0, integer=True)
        self.min_size = check_number(min_size, "min_size", low=1, integer=True)
        self.max_side = check_max_side(max_side)
        path = cascade_path()
        self._cascade = cv2.CascadeClassifier(str(path))
        if self._cascade.empty():
            raise RuntimeError(f"OpenCV could not load the Haar cascade {path}")

    def detect(self, frame: np.ndarray) -> Detections:
        """Faces in one frame.

        Parameters
        ----------
        frame : (H, W, 3) uint8 BGR (or (H, W) uint8 grey)

        Returns
        -------
        Detections
            boxes (N, 4) float32 xyxy, scores (N,) float32 in (0, 1), landmarks None.
        """
        frame = check_frame(frame)
        image, back = shrink(frame, self.max_side)
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        rects, _, weights = self._cascade.detectMultiScale3(
            grey,
            scaleFactor=self.scale_factor,
            minNeighbors=self.min_neighbors,
            minSize=(self.min_size, self.min_size),
            outputRejectLevels=True,
        )
        if len(rects) == 0:
            return Detections.empty(with_landmarks=False)
        xywh = np.asarray(rects, dtype=np.float32).reshape(-1, 4)
        boxes = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1) * np.tile(back, 2)
        margin = np.asarray(weights, dtype=np.float64).reshape(-1)
        scores = (1.0 / (1.0 + np.exp(-margin))).astype(np.float32)
        return Detections(boxes, scores, None)
