"""Face detectors: ``detect(frame) -> Detections`` for a (H, W, 3) uint8 BGR frame.

``make_detector(name, **settings)`` builds one by name: "yunet" (default), "mtcnn" or "haar".
"""

from facesel.detectors.base import Detector, check_frame
from facesel.detectors.factory import DEFAULT_DETECTOR, DETECTOR_NAMES, make_detector
from facesel.detectors.haar import HaarDetector
from facesel.detectors.mtcnn import MTCNNDetector
from facesel.detectors.yunet import YuNetDetector

__all__ = [
    "DEFAULT_DETECTOR",
    "DETECTOR_NAMES",
    "Detector",
    "HaarDetector",
    "MTCNNDetector",
    "YuNetDetector",
    "check_frame",
    "make_detector",
]
