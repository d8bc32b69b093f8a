"""The scene-change thumbnail in one pass where its shrink is a whole factor
(``_core.sampled_block_grey``, issue 27 session 25).

A 1080p frame's thumbnail was three passes: every fifth pixel gathered (OpenCV's nearest-neighbour
resize), the 384 x 216 sample averaged 4 x 4 (OpenCV's whole-factor INTER_AREA loop) and turned
grey (cvtColor): 2.6 million instructions a frame under callgrind, every frame. The core reads
each output's 16 samples straight from the frame. The claim is the same bytes as that recipe: the
grey step for every colour, the whole-factor average on real frames for several steps and blocks
and for views inside a larger frame, and ``_thumbnail`` taking it exactly where it applies.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from facesel import _core
from facesel.detect import schedule
from video_frames import spread_frames


@pytest.fixture(scope="module")
def frames(shared_data):
    return spread_frames(shared_data, "arcade_walkers_1080p.mp4", 4)


def _recipe(frame: np.ndarray, step: int, block_x: int, block_y: int) -> np.ndarray:
    """The three passes: the strided sample (contiguous), OpenCV's INTER_AREA by whole factors, grey."""
    sample = np.ascontiguousarray(frame[::step, ::step])
    size = (sample.shape[1] // block_x, sample.shape[0] // block_y)
    return cv2.cvtColor(cv2.resize(sample, size, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY)


def test_the_grey_step_for_every_colour():
    """Blocks of one pixel: the average is the pixel, so this is cvtColor's fixed point alone, all 2^24 colours."""
    values = np.arange(1 << 24, dtype=np.uint32)
    image = np.stack([(values >> 16) & 255, (values >> 8) & 255, values & 255], -1).astype(np.uint8).reshape(4096, 4096, 3)
    assert np.array_equal(_core.sampled_block_grey(image, 1, 1, 1), cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))


def test_whole_factor_averages_on_real_frames(frames):
    checked = 0
    for k, frame in enumerate(frames):
        for step, crop, block_x, block_y in ((5, (1080, 1920), 4, 4), (1, (240, 360), 3, 3), (2, (300, 500), 5, 5),
                                             (3, (270, 480), 4, 2), (4, (400, 640), 2, 4), (7, (1078, 1918), 1, 2),
                                             (1, (96, 96), 8, 6)):
            h, w = crop
            y, x = (frame.shape[0] - h) // 2, (frame.shape[1] - w) // 2 + k
            x = min(x, frame.shape[1] - w)
            for image in (frame[y:y + h, x:x + w], np.ascontiguousarray(frame[y:y + h, x:x + w])):  # a view, a copy
                got = _core.sampled_block_grey(image, step, block_x, block_y)
                want = _recipe(image, step, block_x, block_y)
                assert got.shape == want.shape and np.array_equal(got, want), (step, crop, block_x, block_y)
                checked += 1
    assert checked == len(frames) * 7 * 2


def test_the_thumbnail_takes_it_exactly_where_it_applies(frames, monkeypatch):
    calls = []
    real = schedule._sampled_grey
    monkeypatch.setattr(schedule, "_sampled_grey", lambda *a: calls.append(a[1:]) or real(*a))
    for frame in frames:
        assert np.array_equal(schedule._thumbnail(frame), _recipe(frame, 5, 4, 4))  # 1080p: 384 x 216 -> 96 x 54
    assert calls == [(5, 4, 4)] * len(frames)
    four_k = cv2.resize(frames[0], (3840, 2160), interpolation=cv2.INTER_LINEAR)
    assert np.array_equal(schedule._thumbnail(four_k), _recipe(four_k, 10, 4, 4))
    assert calls[-1] == (10, 4, 4)
    calls.clear()
    small = cv2.resize(frames[0], (1280, 720), interpolation=cv2.INTER_AREA)  # 427 x 240: a fractional factor
    odd = frames[0][:1078]  # 216 sample rows of 1078 / 5: 4 x 4 still, a view
    schedule._thumbnail(small), schedule._thumbnail(frames[0][:, :, ::-1])  # fractional; channels not adjacent bytes
    assert calls == []
    assert np.array_equal(schedule._thumbnail(odd), _recipe(odd, 5, 4, 4)) and calls == [(5, 4, 4)]


def test_bad_arguments_are_refused_by_name():
    image = np.zeros((20, 30, 3), np.uint8)
    for args, kind, words in (
        ((image, 0, 1, 1), ValueError, "step must be in"),
        ((image, 1, 4, 1), ValueError, "block_x must divide the sample's 30 columns"),
        ((image, 1, 1, 3), ValueError, "block_y must divide the sample's 20 rows"),
        ((image, 1, 0, 1), ValueError, "block_x"),
        ((image, 1, 2, 2), ValueError, "2 x 2"),
        ((image, 1.5, 1, 1), TypeError, "step"),
        ((np.zeros((20, 30, 2), np.uint8), 1, 1, 1), ValueError, "(H, W, 3)"),
        ((image.astype(np.float32), 1, 1, 1), TypeError, "image must be uint8"),
        ((image[:, ::2], 1, 1, 1), ValueError, "adjacent bytes"),
        (("pixels", 1, 1, 1), TypeError, "image must be a numpy.ndarray"),
    ):
        with pytest.raises(kind) as refused:
            _core.sampled_block_grey(*args)
        assert words in str(refused.value), (args[1:], str(refused.value))
