"""The leak-free call of YuNet (facesel.detectors.yuface_buffer): same faces, flat memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from facesel.detectors import yuface_buffer
from mjpeg_server import read_gif

yuface = pytest.importorskip("yuface")


@pytest.fixture(scope="module")
def frames(shared_data):
    from facesel.detectors import YuNetDetector

    # OpenMP's thread count is per calling thread: one detection through the detector sets this
    # thread to 1 (its default), so the direct calls below do not spin on a busy machine.
    YuNetDetector(engine="yuface").detect(np.zeros((64, 64, 3), np.uint8))
    return read_gif(shared_data / "videos" / "intel_face_demographics_walking.gif")


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def test_same_faces_as_yuface(frames):
    assert yuface_buffer.available()
    found = 0
    for frame in frames:
        ours, theirs = yuface_buffer.detect_raw(frame), yuface.c_detect(frame)
        # the 16th value is a spare the library leaves unset (yuface returns what its fresh buffer held)
        assert np.array_equal(ours[:, :15], theirs[:, :15])
        found += len(ours)
    assert found >= len(frames)  # people are in view in every frame of this clip


@pytest.mark.slow
def test_memory_stays_flat_where_yuface_grows(frames):
    calls = 150  # yuface: about 5 MiB more; ours: nothing
    for frame in frames[:5]:  # warm both paths up (thread pools, first allocations)
        yuface_buffer.detect(frame)
        yuface.detect(frame)
    before = rss_kib()
    for k in range(calls):
        yuface_buffer.detect(frames[k % len(frames)])
    ours = rss_kib() - before
    before = rss_kib()
    for k in range(calls):
        yuface.detect(frames[k % len(frames)])
    theirs = rss_kib() - before
    assert ours <= max(1024, 0.1 * theirs), (ours, theirs)


def test_bad_image_is_refused():
    with pytest.raises(ValueError, match="uint8 BGR"):
        yuface_buffer.detect_raw(np.zeros((10, 10), np.uint8))
