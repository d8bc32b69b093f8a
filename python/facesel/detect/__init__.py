"""Face detectors: ``detect(frame) -> Detections`` for a (H, W, 3) uint8 BGR frame.

``make_detector(name, **settings)`` builds one by name: "yunet" (default), "mtcnn" or "haar".
"""

from facesel.detect.base import Detector, check_frame
from facesel.detect.factory import DEFAULT_DETECTOR, DETECTOR_NAMES, make_detector
from facesel.detect.haar import HaarDetector
from facesel.detect.mtcnn import MTCNNDetector
from facesel.detect.yunet import YuNetDetector

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
