"""The C++ core's integer area shrink (``facesel.detect.schedule.exact_shrink``, issue 27 session 17).

A 1080p camera shrinks whole frames to 1280x720 (3:2) and 640x360 (3:1) for full-frame detection
and region squares of faces under 96 pixels from 192 to 128 pixels (3:2); OpenCV's INTER_AREA does
3:2 on its general, unvectorised float path. Where a side's ratio p:q (lowest terms) has p odd and
small, every output is an integer sum over an odd area, never halfway between two grey levels, so
rounding the exact average gives OpenCV's pixels. The claims: the same pixels as OpenCV bit for bit
on real frames and squares (and the paths that must not take the core do not), the same detections
out of the detector and the region search, bad arguments refused by name, and less CPU than the
paths it replaces in the same run.
"""

from __future__ import annotations

import math
import time

import cv2
import numpy as np
import pytest
from facesel import _core
from facesel.detect import schedule
from facesel.detect.base import shrink
from facesel.detect.schedule import area_shrink, exact_shrink, search_regions
from video_frames import spread_frames


@pytest.fixture(scope="module")
def frames(shared_data):
    return spread_frames(shared_data, "arcade_walkers_1080p.mp4", 6)


def _opencv(image, size):
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def test_whole_frames_are_opencvs_pixels(frames):
    for frame in frames:
        for size in ((1280, 720), (640, 360)):
            got = exact_shrink(frame, size)
            assert got is not None and got.flags.c_contiguous
            assert np.array_equal(got, _opencv(frame, size)), size
            small, back = shrink(frame, max(size))
            assert np.array_equal(small, got)
            np.testing.assert_allclose(back, [1920 / size[0], 1080 / size[1]])


def test_squares_of_every_exact_ratio_are_opencvs_pixels(frames):
    """Random crops (views with the frame's row stride, colour and grey) shrunk by every ratio the
    core takes with p up to 9, both axes independently."""
    rng = np.random.default_rng(17)
    ratios = [(p, q) for p in (1, 3, 5, 7, 9) for q in range(1, p + 1) if math.gcd(p, q) == 1]
    compared = set()
    for _ in range(1500):
        frame = frames[int(rng.integers(len(frames)))]
        (py, qy), (px, qx) = (ratios[int(i)] for i in rng.integers(len(ratios), size=2))
        if (py, qy) == (px, qx) == (1, 1):
            continue
        ky, kx = int(rng.integers(1, 1080 // py // 2)), int(rng.integers(1, 1920 // px // 4))
        h, w = py * ky, px * kx
        y, x = int(rng.integers(0, 1081 - h)), int(rng.integers(0, 1921 - w))
        region = frame[y:y + h, x:x + w]
        if rng.random() < 0.25:
            region = region[:, :, int(rng.integers(3))]  # one channel: a view 3 bytes a pixel apart
            region = np.ascontiguousarray(region) if rng.random() < 0.5 else cv2.cvtColor(frame[y:y + h, x:x + w], cv2.COLOR_BGR2GRAY)
        size = (qx * kx, qy * ky)
        got = exact_shrink(region, size)
        assert got is not None, (region.shape, size)
        assert np.array_equal(got, _opencv(region, size)), (region.shape, size)
        assert np.array_equal(area_shrink(region, size), got)
        compared.add(((py, qy), (px, qx)))
    assert len(compared) > 100  # most pairs of ratios met


def test_the_arcade_squares_go_through_the_core_and_stay_opencvs(frames):
    frame = frames[2]
    for y, x in ((300, 700), (100, 1500), (888, 0)):
        square = frame[y:y + 192, x:x + 192]
        got = exact_shrink(square, (128, 128))
        assert got is not None and np.array_equal(got, _opencv(square, (128, 128)))


def test_what_the_core_does_not_take_goes_to_opencv(frames, monkeypatch):
    frame = frames[0]
    cases = [
        (frame[0:200, 0:200], (150, 150)),  # 4:3: an even area, halves possible
        (frame[0:200, 0:200], (100, 100)),  # 2:1
        (frame[0:191, 0:191], (127, 127)),  # 191:127, p too large
        (frame[::-1, ::-1][0:192, 0:192], (128, 128)),  # negative strides
        (frame[0:384:2, 0:192], (128, 128)),  # every other row: rows still apart by a row, taken
        (frame[0:192, 0:384:2], (128, 128)),  # every other pixel: not packed
        (np.dstack([frame[0:192, 0:192], frame[0:192, 0:192, :1]]), (128, 128)),  # four channels
        (frame[0:192, 0:192].astype(np.float32), (128, 128)),  # not uint8
    ]
    taken = [exact_shrink(region, size) is not None for region, size in cases]
    assert taken == [False, False, False, False, True, False, False, False]
    for region, size in cases:
        assert np.array_equal(area_shrink(region, size), _opencv(region, size)), (region.shape, size)
    monkeypatch.setattr(schedule, "AREA_PATH", "float")  # the switch back: the core is not used
    assert exact_shrink(frame, (1280, 720)) is None
    assert np.array_equal(shrink(frame, 1280)[0], _opencv(frame, (1280, 720)))


def test_three_to_two_and_three_to_one_at_every_small_width_are_opencvs_pixels():
    """The 3:2 and 3:1 paths' dense horizontal pass (session 24: every position computed in vector
    lanes, then each block's outputs copied out) at every width from one block to 40 blocks, colour
    and grey, strided rows, with the extremes 0 and 255 (the largest sum the rounding must hold)."""
    rng = np.random.default_rng(24)
    for blocks in range(1, 41):
        for channels in (3, 1):
            for q in (2, 1):
                rows, cols = 3 * (1 + blocks % 4), 3 * blocks
                shape = (rows, cols, channels) if channels == 3 else (rows, cols)
                image = rng.choice(np.array([0, 1, 127, 128, 254, 255], np.uint8), size=shape)
                image[0] = 255
                wide = np.zeros((rows, cols + 5, *shape[2:]), np.uint8)
                wide[:, :cols] = image
                for src in (image, wide[:, :cols]):  # contiguous, and rows with a longer stride
                    size = (q * blocks, q * rows // 3)
                    got = _core.area_shrink_exact(src, *size)
                    assert np.array_equal(got, _opencv(np.ascontiguousarray(src), size)), (blocks, channels, q)


def test_bad_arguments_are_refused_by_name():
    image = np.zeros((6, 6, 3), np.uint8)
    with pytest.raises(TypeError, match="image must be uint8"):
        _core.area_shrink_exact(image.astype(np.float32), 4, 4)
    with pytest.raises(TypeError, match="image must be a numpy.ndarray"):
        _core.area_shrink_exact([[1, 2, 3]], 2, 2)
    with pytest.raises(ValueError, match="image must have shape"):
        _core.area_shrink_exact(np.zeros((6, 6, 5), np.uint8), 4, 4)
    with pytest.raises(ValueError, match="width 5 from 6 columns"):
        _core.area_shrink_exact(image, 5, 4)
    with pytest.raises(ValueError, match="height 8 from 6 rows"):
        _core.area_shrink_exact(image, 4, 8)
    with pytest.raises(ValueError, match="height -2"):
        _core.area_shrink_exact(image, 4, -2)
    with pytest.raises(ValueError, match="adjacent bytes"):
        _core.area_shrink_exact(np.zeros((6, 12, 3), np.uint8)[:, ::2], 4, 4)
    with pytest.raises(ValueError, match="sides in"):
        _core.area_shrink_exact(np.zeros((0, 6, 3), np.uint8), 4, 0)
    with pytest.raises(TypeError, match="width"):
        _core.area_shrink_exact(image, "4", 4)
    assert _core.area_shrink_exact_ratio(1920, 1280) and _core.area_shrink_exact_ratio(1080, 360)
    assert not _core.area_shrink_exact_ratio(1920, 960) and not _core.area_shrink_exact_ratio(4, 5)
    assert not _core.area_shrink_exact_ratio(0, 0)


def test_the_detector_and_the_region_search_find_the_same_faces(frames, monkeypatch):
    pytest.importorskip("onnxruntime")
    from facesel.detect.yunet import YuNetDetector

    detector = YuNetDetector(max_side=1280)
    compared = 0
    for frame in frames[:4]:
        found = {}
        for area in ("exact", "uint8"):
            monkeypatch.setattr(schedule, "AREA_PATH", area)
            whole = detector.detect(frame)
            regions = search_regions(detector, frame, whole.boxes, scale=2.5, face_px=64.0, min_px=128,
                                     base_shrink=1280 / 1920)
            found[area] = (whole, regions)
        for new, old in zip(found["exact"], found["uint8"]):
            np.testing.assert_array_equal(new.boxes, old.boxes)
            np.testing.assert_array_equal(new.scores, old.scores)
            np.testing.assert_array_equal(new.landmarks, old.landmarks)
        compared += len(found["exact"][1])
    assert compared > 20


def test_less_cpu_than_the_paths_it_replaces_in_the_same_run(frames, monkeypatch):
    """Ratios within one run, alternated (no time threshold): a 1080p frame to 1280x720 and 640x360
    against OpenCV, 192 -> 128 squares against the float32 path (about 0.27x and 0.3x on a quiet
    machine, session 17); asserted at under 0.8x."""
    squares = [frames[i][300:492, 500 + 100 * i:692 + 100 * i] for i in range(4)]
    spent = {"exact": [0.0, 0.0], "float": [0.0, 0.0]}
    for _ in range(4):
        for area in ("exact", "float"):
            monkeypatch.setattr(schedule, "AREA_PATH", area)
            start = time.thread_time()
            for frame in frames[:3]:
                schedule.frame_shrink(frame, (1280, 720))
                schedule.frame_shrink(frame, (640, 360))
            middle = time.thread_time()
            for _ in range(10):
                for square in squares:
                    area_shrink(square, (128, 128))
            spent[area][0] += middle - start
            spent[area][1] += time.thread_time() - middle
    assert spent["exact"][0] < 0.8 * spent["float"][0], spent
    assert spent["exact"][1] < 0.8 * spent["float"][1], spent
