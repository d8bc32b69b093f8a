"""The detection stage: full-frame detection on the schedule, region search around tracks between."""

from __future__ import annotations

import numpy as np

from facesel.detect.base import check_frame
from facesel.detect.schedule import DetectionSchedule, search_regions
from facesel.types import Detections


class DetectStage:
    """Detections of one frame, found the way the configuration says.

    Parameters
    ----------
    detector : object with ``detect(frame) -> Detections``
    config : facesel.config.PipelineConfig
        ``mode == "exhaustive"`` detects every frame whole; otherwise detect_every,
        scene_change, region_scale, region_face_px, region_min_px. min_face_size always.
    """

    def __init__(self, detector, config):
        if not callable(getattr(detector, "detect", None)):
            raise TypeError(f"detector must have a detect() method, got {type(detector).__name__}")
        self.detector = detector
        self.config = config
        every = 1 if config.mode == "exhaustive" else config.detect_every
        self.schedule = DetectionSchedule(every, 0.0 if config.mode == "exhaustive" else config.scene_change)
        self.regions_searched = 0

    def detect(self, frame: np.ndarray, expected: np.ndarray) -> tuple[Detections, bool]:
        """This frame's usable detections and whether the whole frame was searched.

        Parameters
        ----------
        frame : (H, W, 3) uint8 BGR
        expected : (T, 4) float32
            Where the open tracks' faces are expected (``TrackStage.expected_boxes``).
        """
        frame = check_frame(frame)
        full = self.schedule.full_frame(frame)
        if full:
            dets = self.detector.detect(frame)
            if not isinstance(dets, Detections):
                raise TypeError(f"detector.detect must return Detections, got {type(dets).__name__}")
        else:
            c = self.config
            self.regions_searched += len(expected)
            longer = max(frame.shape[:2])
            base = min(1.0, c.max_side / longer) if c.max_side else 1.0
            dets = search_regions(self.detector, frame, expected, scale=c.region_scale,
                                  face_px=c.region_face_px, min_px=c.region_min_px, base_shrink=base)
        return usable(dets, frame.shape, self.config.min_face_size), full


def usable(dets: Detections, shape, min_face_size: float) -> Detections:
    """Detections with a finite box of at least ``min_face_size`` that overlaps the frame."""
    if len(dets) == 0:
        return dets
    b = dets.boxes
    h, w = shape[:2]
    with np.errstate(invalid="ignore"):
        side = np.minimum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
        keep = np.isfinite(b).all(axis=1) & (side > 0) & (side >= min_face_size)
        keep &= (b[:, 2] > 0) & (b[:, 3] > 0) & (b[:, 0] < w) & (b[:, 1] < h)
    return dets if keep.all() else dets[keep]
