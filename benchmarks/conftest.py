"""Benchmark-wide settings (the shared_data fixture comes from the root conftest.py)."""

from __future__ import annotations

import cv2
import pytest


@pytest.fixture(autouse=True)
def one_opencv_thread():
    """With OpenCV's thread pool on, timings on a busy 2-core machine measure contention rather than
    the code, so every benchmark runs OpenCV on one thread and restores the setting afterwards."""
    previous = cv2.getNumThreads()
    cv2.setNumThreads(1)
    yield
    cv2.setNumThreads(previous)
