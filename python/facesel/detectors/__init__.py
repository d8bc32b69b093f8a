"""Face detectors: ``detect(frame) -> Detections`` for a (H, W, 3) uint8 BGR frame."""

from facesel.detectors.base import Detector, check_frame
from facesel.detectors.yunet import YuNetDetector

__all__ = ["Detector", "check_frame", "YuNetDetector"]
