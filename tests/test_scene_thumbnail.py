"""The scene-change thumbnail's sampling (``facesel.detect.schedule.sampled``, issue 27 session 14).

Every frame of a sparse-mode camera pays for the scene-change thumbnail, so its strided sample of
the frame is copied whole pixels at a time (a void dtype of 3 bytes) instead of byte by byte. The
pixels must be exactly those of ``frame[::step, ::step]`` for any layout, and the thumbnail exactly
the one the plain recipe gives, on real frames: the schedule's decisions then cannot move.
"""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest
from facesel.detect import schedule
from facesel.detect.schedule import DetectionSchedule, sampled
from video_frames import spread_frames


def _plain_thumbnail(frame: np.ndarray) -> np.ndarray:
    """The thumbnail as made before session 14: OpenCV given the strided view."""
    h, w = frame.shape[:2]
    step = max(1, w // (4 * schedule._THUMB_WIDTH))
    size = (schedule._THUMB_WIDTH, max(1, round(h * schedule._THUMB_WIDTH / w)))
    return cv2.cvtColor(cv2.resize(frame[::step, ::step], size, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY)


@pytest.mark.parametrize("step", [1, 2, 3, 5, 7])
def test_sampled_gives_the_strided_pixels_for_every_layout(step):
    rng = np.random.default_rng(step)
    frame = rng.integers(0, 256, (61, 97, 3), dtype=np.uint8)
    layouts = {
        "contiguous": frame,
        "reversed columns": frame[:, ::-1],  # negative strides: not 3 adjacent bytes a pixel
        "channel view": frame[:, :, ::-1],  # BGR -> RGB view: the channel stride is -1
        "row slice": frame[5:50, 3:90],  # a crop: rows longer than the view
        "grey": frame[:, :, 0],
        "four channels": rng.integers(0, 256, (20, 30, 4), dtype=np.uint8),
    }
    for name, image in layouts.items():
        out = sampled(image, step)
        want = image[::step, ::step]
        assert out.shape == want.shape, name
        assert out.flags["C_CONTIGUOUS"], name
        assert np.array_equal(out, want), name


@pytest.mark.parametrize("step", [2, 3, 5, 7, 10, 49])
def test_the_gather_where_the_step_divides_the_frame_gives_the_strided_pixels(step):
    """Where the step divides both sides OpenCV's nearest-neighbour resize gathers the pixels
    (session 20): the same ones as the strided view, for 1 to 4 channels, a view inside a larger
    image, and the steps whose reciprocal does not come back exactly (49), which go the other way."""
    rng = np.random.default_rng(step)
    for channels in (1, 2, 3, 4):
        whole = rng.integers(0, 256, (step * 13 + 2, step * 21 + 3, channels), dtype=np.uint8)
        for name, image in {"contiguous": np.ascontiguousarray(whole[:step * 13, :step * 21]),
                            "inside a larger image": whole[1:step * 13 + 1, 2:step * 21 + 2]}.items():
            assert schedule._gathers_exactly(image, step) is (step != 49), (name, channels)
            out = sampled(image, step)
            assert out.shape == (13, 21, channels) and out.flags["C_CONTIGUOUS"], (name, channels)
            assert np.array_equal(out, image[::step, ::step]), (name, channels)


def test_a_1080p_frame_takes_the_gather():
    frame = np.random.default_rng(0).integers(0, 256, (1080, 1920, 3), dtype=np.uint8)
    step = max(1, frame.shape[1] // (4 * schedule._THUMB_WIDTH))
    assert step == 5 and schedule._gathers_exactly(frame, step)
    assert np.array_equal(sampled(frame, step), frame[::5, ::5])
    assert not schedule._gathers_exactly(frame[:1078], step)  # 1078 rows: not divisible, the copy


@pytest.mark.parametrize("step", [2, 3, 4, 5, 7, 49])
def test_the_gather_with_edges_where_the_step_leaves_a_column_or_row(step, monkeypatch):
    """Session 22 (cap23): where the step does not divide a side (a 720p frame's step 3 and its
    1280 columns) the largest part it divides is gathered by OpenCV and the last column and row
    copied apart: the same pixels as the strided view, every remainder on either side, 1 to 4
    channels, a view inside a larger image; a 720p frame takes that path, not the item copy."""
    rng = np.random.default_rng(100 + step)
    calls = []
    real = schedule._gathered_with_edges
    monkeypatch.setattr(schedule, "_gathered_with_edges", lambda f, s: calls.append(f.shape) or real(f, s))
    for channels in (1, 2, 3, 4):
        whole = rng.integers(0, 256, (step * 9 + step + 3, step * 11 + step + 4, channels), dtype=np.uint8)
        for extra_rows in range(step):
            for extra_cols in range(step):
                h, w = step * 9 + extra_rows, step * 11 + extra_cols
                for image in (np.ascontiguousarray(whole[:h, :w]), whole[2:2 + h, 3:3 + w]):
                    out = sampled(image, step)
                    want = image[::step, ::step]
                    assert out.shape == want.shape and out.flags["C_CONTIGUOUS"], (channels, h, w)
                    assert np.array_equal(out, want), (channels, h, w)
    assert calls  # the path was taken for the shapes the step does not divide
    frame = rng.integers(0, 256, (720, 1280, 3), dtype=np.uint8)
    assert max(1, 1280 // (4 * schedule._THUMB_WIDTH)) == 3 and not schedule._gathers_exactly(frame, 3)
    assert real(frame, 3) is not None and np.array_equal(real(frame, 3), frame[::3, ::3])


def test_the_thumbnail_is_the_plain_recipes_on_arcade_frames(shared_data):
    frames = spread_frames(shared_data, "arcade_walkers_1080p.mp4", 8)
    for frame in frames:
        assert np.array_equal(schedule._thumbnail(frame), _plain_thumbnail(frame))
        # the motion gate's thumbnail samples the same way
        step = max(1, frame.shape[1] // (2 * schedule._MOTION_WIDTH))
        grey = cv2.cvtColor(np.ascontiguousarray(frame[::step, ::step]), cv2.COLOR_BGR2GRAY)
        want = cv2.resize(grey, (grey.shape[1] // 2, grey.shape[0] // 2), interpolation=cv2.INTER_AREA)
        assert np.array_equal(schedule._motion_thumbnail(frame), want)


def test_the_thumbnail_of_720p_frames_is_the_plain_recipes(shared_data):
    """Session 22: a 720p frame's sample (427 x 240) shrinks to the thumbnail by a fractional factor,
    through ``area_shrink`` (OpenCV's INTER_AREA pixels) since then: the plain recipe's bytes."""
    for frame in spread_frames(shared_data, "arcade_walkers_1080p.mp4", 4):
        small = cv2.resize(frame, (1280, 720), interpolation=cv2.INTER_AREA)
        assert np.array_equal(schedule._thumbnail(small), _plain_thumbnail(small))


def test_scene_changes_are_decided_as_before(shared_data):
    """The schedule's full-frame decisions, scene changes included, on a cut between two videos."""
    frames = (spread_frames(shared_data, "arcade_walkers_1080p.mp4", 12)
              + [cv2.resize(f, (1920, 1080)) for f in spread_frames(shared_data, "selfie_motion_blur_portrait.mp4", 6)])
    decided = DetectionSchedule(8, scene_change=30.0)
    decisions = [decided.full_frame(f) for f in frames]
    reference, since, plain = None, None, []
    for frame in frames:  # the schedule's rule, with the plain thumbnail
        thumb = _plain_thumbnail(frame)
        due = since is None or since + 1 >= 8
        if not due and float(cv2.absdiff(thumb, reference).mean()) > 30.0:
            due = True
        if due:
            since, reference = 0, thumb
        else:
            since += 1
        plain.append(due)
    assert decisions == plain
    assert decided.by_scene_change >= 1  # the cut to the selfie video is seen


def test_the_sample_costs_less_cpu_than_the_plain_copy(shared_data):
    """A ratio within one run, not a time: whole-pixel copies against numpy's byte-by-byte copy of
    the same strided view (about 0.45x on a quiet machine; asserted at under 0.9x)."""
    frame = spread_frames(shared_data, "arcade_walkers_1080p.mp4", 1)[0]
    step = max(1, frame.shape[1] // (4 * schedule._THUMB_WIDTH))
    spent = {"sampled": 0.0, "plain": 0.0}
    for _ in range(5):  # alternated, so the machine's load falls on both alike
        for name, copy in (("sampled", lambda: sampled(frame, step)),
                           ("plain", lambda: np.ascontiguousarray(frame[::step, ::step]))):
            start = time.thread_time()
            for _ in range(20):
                copy()
            spent[name] += time.thread_time() - start
    assert spent["sampled"] < 0.9 * spent["plain"], spent
