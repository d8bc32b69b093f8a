"""YuNet (Wu et al., 2023) through the ``yuface`` package, whose weights are compiled in."""

from __future__ import annotations

import numpy as np

from facesel.detectors.base import check_frame
from facesel.types import Detections


class YuNetDetector:
    """Fast CPU face detector with five landmarks.

    Parameters
    ----------
    min_confidence : float in [0, 1]
        Detections below this confidence are dropped.
    """

    def __init__(self, min_confidence: float = 0.6):
        if not 0.0 <= min_confidence <= 1.0:
            raise ValueError(f"min_confidence must be in [0, 1], got {min_confidence!r}")
        import yuface  # imported here so that facesel imports without it

        self._yuface = yuface
        self.min_confidence = float(min_confidence)

    def detect(self, frame: np.ndarray) -> Detections:
        frame = check_frame(frame)
        confs, boxes_xywh, landmarks = self._yuface.detect(frame, conf=self.min_confidence)
        if len(confs) == 0:
            return Detections.empty()
        xywh = np.asarray(boxes_xywh, dtype=np.float32).reshape(-1, 4)
        boxes = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)
        # yuface reports confidence in percent; its landmark order is already image-left eye,
        # image-right eye, nose, image-left mouth corner, image-right mouth corner.
        scores = np.asarray(confs, dtype=np.float32) / 100.0
        return Detections(boxes, scores, np.asarray(landmarks, dtype=np.float32).reshape(-1, 5, 2))
