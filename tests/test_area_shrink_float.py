"""Region squares by the core's copy of OpenCV's float32 area path (``_core.area_shrink_float``, issue 27 session 18).

A 1080p camera's region squares that do not shrink by a small odd ratio (about 300 of 800 a pass of
the arcade video at the governor's cap: 195-400 pixels to 130-160) went through a float32 copy of
the square and OpenCV's general INTER_AREA path (session 14). The core runs that path's float32
operations in their order on the uint8 pixels, four source rows at a time in SIMD lanes. The claim
is the same pixels, bit for bit, as the path it replaces; that ``facesel.detect.schedule.area_shrink``
uses it only where OpenCV takes that path; and less CPU than it in the same run (a ratio, never a
time).
"""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest
from facesel import _core
from facesel.detect import schedule
from video_frames import spread_frames


@pytest.fixture(scope="module")
def frames(shared_data):
    return spread_frames(shared_data, "arcade_walkers_1080p.mp4", 6)


def _opencv_float(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Session 14's path: OpenCV's INTER_AREA on a float32 copy, rounded back."""
    return cv2.convertScaleAbs(cv2.resize(image.astype(np.float32), size, interpolation=cv2.INTER_AREA))


def _crops(frames, count: int, seed: int):
    """(view, (width, height)): random squares and oblongs of the arcade frames (colour, or grey
    one time in five), 8-700 pixels a side, shrunk to any smaller size that is not a whole factor on
    both axes (OpenCV's fast path), one axis left as it is one time in ten."""
    rng = np.random.default_rng(seed)
    made = 0
    while made < count:
        frame = frames[int(rng.integers(len(frames)))]
        sw, sh = int(rng.integers(8, 700)), int(rng.integers(8, 700))
        x, y = int(rng.integers(0, frame.shape[1] - sw)), int(rng.integers(0, frame.shape[0] - sh))
        view = frame[y:y + sh, x:x + sw]
        if rng.random() < 0.2:
            view = cv2.cvtColor(view, cv2.COLOR_BGR2GRAY)
        w, h = int(rng.integers(1, sw + 1)), int(rng.integers(1, sh + 1))
        if rng.random() < 0.1:
            w = sw
        if sw % w == 0 and sh % h == 0:
            continue
        made += 1
        yield view, (w, h)


def test_the_same_pixels_as_opencvs_float32_path(frames):
    checked = 0
    for view, size in _crops(frames, 1500, seed=18):
        got = _core.area_shrink_float(view, *size)  # the view itself: rows at the frame's stride
        assert got.dtype == np.uint8 and got.shape == (size[1], size[0]) + view.shape[2:]
        np.testing.assert_array_equal(got, _opencv_float(view, size), err_msg=f"{view.shape} -> {size}")
        checked += 1
    assert checked == 1500


def test_saturated_and_flat_pictures_and_single_rows(frames):
    for picture in (np.full((97, 131, 3), 255, np.uint8), np.zeros((50, 41), np.uint8),
                    np.tile(np.array([0, 255], np.uint8), (33, 40))):
        for size in ((7, 5), (picture.shape[1] - 1, 3), (2, picture.shape[0] - 1), (1, 4)):
            assert picture.shape[1] % size[0] or picture.shape[0] % size[1]  # not OpenCV's whole-factor path
            np.testing.assert_array_equal(_core.area_shrink_float(picture, *size), _opencv_float(picture, size))
    row = frames[0][500:501, 100:917]  # one row, 817 pixels to 300
    np.testing.assert_array_equal(_core.area_shrink_float(row, 300, 1), _opencv_float(row, (300, 1)))


def test_two_and_four_channels_and_every_tail_width(frames):
    """Session 22 (cap23): the horizontal pass takes every channel of an output column at once (one
    template per channel count), the rows are turned apart four elements at a time and the output
    rounded 16 at a time, each with a scalar tail. Every channel count the binding accepts, and
    output widths whose elements leave each tail length, give OpenCV's float32 pixels bit for bit."""
    rng = np.random.default_rng(22)
    base = frames[2][200:620, 300:830]
    pictures = {1: cv2.cvtColor(base, cv2.COLOR_BGR2GRAY), 2: np.ascontiguousarray(base[:, :, :2]), 3: base,
                4: cv2.cvtColor(base, cv2.COLOR_BGR2BGRA)}
    pictures[4][:, :, 3] = rng.integers(0, 256, pictures[4].shape[:2], dtype=np.uint8)
    checked = 0
    for channels, picture in pictures.items():
        for width in range(1, 40):  # widths x channels: every remainder of 4 and of 16
            sw, sh = int(rng.integers(width + 1, 420)), int(rng.integers(2, 400))
            view = picture[:sh, :sw]
            size = (width, int(rng.integers(1, sh)))
            if sw % size[0] == 0 and sh % size[1] == 0:
                continue
            np.testing.assert_array_equal(_core.area_shrink_float(view, *size), _opencv_float(view, size),
                                          err_msg=f"{view.shape} -> {size}")
            checked += 1
    assert checked > 120


def test_area_shrink_sends_only_fractional_uint8_squares_to_it(frames, monkeypatch):
    calls = []
    real = schedule._float_core
    monkeypatch.setattr(schedule, "_float_core", lambda image, w, h: calls.append((image.shape, w, h)) or real(image, w, h))
    square = frames[1][300:545, 800:1045]  # 245 pixels: to 160 is 49:32, not an exact ratio
    np.testing.assert_array_equal(schedule.area_shrink(square, (160, 160)), _opencv_float(square, (160, 160)))
    assert calls == [((245, 245, 3), 160, 160)]
    schedule.area_shrink(frames[1][300:492, 800:992], (128, 128))  # 3:2: the integer average
    schedule.area_shrink(square[:240, :240], (120, 120))  # a whole factor: OpenCV's own path
    schedule.area_shrink(square[:100, :100], (160, 160))  # an enlargement
    schedule.area_shrink(np.ascontiguousarray(square[:, :, 0]).astype(np.float32), (160, 160))  # not uint8
    assert len(calls) == 1
    monkeypatch.setattr(schedule, "AREA_PATH", "exact+numpy")  # session 17's path for A/B runs: not used
    np.testing.assert_array_equal(schedule.area_shrink(square, (160, 160)), _opencv_float(square, (160, 160)))
    assert len(calls) == 1


def test_bad_arguments_are_refused_by_name():
    image = np.zeros((20, 30, 3), np.uint8)
    for args, kind, words in (
        ((image, 0, 5), ValueError, "width must be in [1, 30]"),
        ((image, 31, 5), ValueError, "width must be in [1, 30]"),
        ((image, 5, 21), ValueError, "height must be in [1, 20]"),
        ((image, 2.5, 5), TypeError, "width"),
        ((image.astype(np.float32), 5, 5), TypeError, "image must be uint8"),
        ((image[:, ::2], 5, 5), ValueError, "adjacent bytes"),
        ((np.zeros((4, 4, 5), np.uint8), 2, 2), ValueError, "C in 1..4"),
        (("pixels", 5, 5), TypeError, "image must be a numpy.ndarray"),
    ):
        with pytest.raises(kind) as refused:
            _core.area_shrink_float(*args)
        assert words in str(refused.value)


def test_less_cpu_than_the_float32_copy_in_the_same_run(frames):
    """A ratio in one run (thread CPU, alternated), not a time: the squares of the governor's cap."""
    squares = [(frames[k % len(frames)][200 + 7 * k:200 + 7 * k + side, 600:600 + side], (160, 160))
               for k, side in enumerate((245, 300, 400, 210, 260, 350))]
    spent = {"core": 0.0, "numpy float32": 0.0}
    for _ in range(3):
        for name, shrink in (("core", lambda v, s: _core.area_shrink_float(v, *s)), ("numpy float32", _opencv_float)):
            start = time.thread_time()
            for _ in range(20):
                for view, size in squares:
                    shrink(view, size)
            spent[name] += time.thread_time() - start
    assert spent["core"] < spent["numpy float32"], spent
