"""Detector throughput on real arcade frames (pytest-benchmark), with the results checked too.

    pytest benchmarks/test_bench_detectors.py                       # timings
    pytest benchmarks/test_bench_detectors.py --benchmark-disable   # CI: the checks only, one run each
"""

from __future__ import annotations


import cv2
import numpy as np
import pytest
from facesel.detectors import make_detector


@pytest.fixture(scope="module")
def arcade_frame(shared_data) -> np.ndarray:
    """Frame 30 of the arcade video (1080p, several walkers facing the camera)."""
    root = shared_data  # the root conftest skips, or fails under CI, without the data
    cap = cv2.VideoCapture(str(root / "videos" / "arcade_walkers_1080p.mp4"))
    frame = None
    for _ in range(31):
        ok, frame = cap.read()
        if not ok:
            break
    cap.release()
    if frame is None:
        pytest.fail("could not read the arcade video")
    return frame


# (detector, frame size, the fewest faces it must find there): minima from docs/detectors.md's
# measurements, with room for frame-to-frame variation.
CASES = [
    ("yunet", (640, 360), 3),
    ("yunet", (1280, 720), 4),
    ("mtcnn", (640, 360), 3),
    ("mtcnn", (1280, 720), 4),
    ("haar", (640, 360), 1),
    ("haar", (1280, 720), 2),
]


@pytest.mark.parametrize("name, size, fewest", CASES, ids=[f"{n}-{w}x{h}" for n, (w, h), _ in CASES])
def test_detector_speed(benchmark, arcade_frame, name, size, fewest):
    settings = {} if name == "haar" else {"threads": 1}
    detector = make_detector(name, **settings)
    frame = cv2.resize(arcade_frame, size, interpolation=cv2.INTER_AREA)
    detector.detect(frame)  # warm-up: ONNX sessions are made on first use
    dets = benchmark(detector.detect, frame)
    assert len(dets) >= fewest, f"{name} found {len(dets)} faces at {size}"
    assert np.all(dets.boxes[:, 2] > dets.boxes[:, 0]) and np.all(dets.boxes[:, 3] > dets.boxes[:, 1])
    assert np.all((dets.scores >= 0) & (dets.scores <= 1))
