"""The motion gate on full-frame detection (``motion_gate``, issue 27), counted on real pixels.

A still scene cut from the arcade video (its vaulted ceiling, no face found there), with a little
sensor-like noise, then a real face from a later arcade frame put into it: faded in slowly (no
frame-to-frame change the gate sees, so only ``motion_max_every`` finds it), pasted at once (a
change outside the tracks: found at the next due detection), moved slowly once tracked (its own
motion, inside its region square, wakes nothing). Today's schedule (``motion_gate = 0``) runs on the
same frames for the counts to compare.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from facesel import Selector
from facesel.config import PipelineConfig
from facesel.scoring import LaplacianVarianceScorer
from facesel.selector import default_detector
from video_frames import arcade_ceiling_and_face

EVERY, LONGEST, GATE = 4, 16, 10.0
STILL = 40  # frames of the empty scene before the face


@pytest.fixture(scope="module")
def pieces(shared_data):
    """(background (400, 800, 3) uint8, face patch (210, 180, 3) uint8) from arcade frames 50 and 100."""
    return arcade_ceiling_and_face(shared_data)


@pytest.fixture(scope="module")
def detector():
    cv2.setNumThreads(1)
    return default_detector()


def scene(background, face, alphas, shifts=None, seed=0):
    """Frames of ``background`` with ``face`` blended in at ``alphas[i]`` (0: absent) at x = 120 +
    ``shifts[i]``, each with its own Gaussian noise (sd 2 grey levels, as a still camera's)."""
    rng = np.random.default_rng(seed)
    out = []
    for i, alpha in enumerate(alphas):
        frame = background.astype(np.float32)
        if alpha > 0:
            x = 120 + (0 if shifts is None else int(shifts[i]))
            roi = frame[100:310, x : x + 180]
            frame[100:310, x : x + 180] = roi * (1.0 - alpha) + face.astype(np.float32) * alpha
        frame += rng.normal(0.0, 2.0, frame.shape).astype(np.float32)
        out.append(np.clip(np.rint(frame), 0, 255).astype(np.uint8))
    return out


def run(detector, frames, gate: float):
    """Per frame: (searched whole, boxes detected); and the Selector's work counts."""
    config = PipelineConfig(threads=1, detect_every=EVERY, motion_gate=gate, motion_max_every=LONGEST, finalise=False)
    selector = Selector(detector, LaplacianVarianceScorer(), config=config)
    views = [selector.feed(frame, i / 25.0) for i, frame in enumerate(frames)]
    selector.flush()
    return [(v.full_detection, [t.box for t in v.tracks]) for v in views], selector.work


def first_found(views, start: int) -> int:
    return next(i for i, (_, boxes) in enumerate(views) if i >= start and boxes)


def test_still_scene_costs_one_full_detection_in_motion_max_every(pieces, detector):
    background, face = pieces
    frames = scene(background, face, [0.0] * (3 * LONGEST))
    gated, work = run(detector, frames, GATE)
    today, work_today = run(detector, frames, 0.0)
    assert [i for i, (full, _) in enumerate(gated) if full] == [0, LONGEST, 2 * LONGEST]
    assert work_today["full_detections"] == len(frames) // EVERY
    assert work["full_postponed"] > 0 and work_today["full_postponed"] == 0
    assert not any(boxes for _, boxes in gated + today)  # nothing to find there either way


def test_a_face_that_fades_in_is_found_within_motion_max_every(pieces, detector):
    background, face = pieces
    fade = 40  # 1/40 of the face's contrast a frame: under the gate's 10 grey levels everywhere
    alphas = [0.0] * STILL + [(k + 1) / fade for k in range(fade)] + [1.0] * LONGEST
    frames = scene(background, face, alphas)
    # the yardstick: the first frame on which the whole-frame search finds the face
    visible = next(i for i in range(STILL, len(frames)) if len(detector.detect(frames[i])))
    gated, work = run(detector, frames, GATE)
    today, _ = run(detector, frames, 0.0)
    late, late_today = first_found(gated, visible) - visible, first_found(today, visible) - visible
    assert late_today < EVERY
    assert late < LONGEST, f"found {late} frames late"
    full_before = sum(full for full, _ in gated[STILL:visible])
    assert full_before <= -(-(visible - STILL) // LONGEST) + 1  # the fade woke no extra detection
    assert work["full_postponed"] > 0


def test_a_face_pasted_at_once_is_found_at_the_next_due_detection(pieces, detector):
    background, face = pieces
    frames = scene(background, face, [0.0] * (STILL + 1) + [1.0] * LONGEST)
    gated, _ = run(detector, frames, GATE)
    assert first_found(gated, STILL + 1) - (STILL + 1) < EVERY


def test_the_tracked_face_moving_inside_its_square_wakes_no_full_detection(pieces, detector):
    background, face = pieces
    moving = 3 * LONGEST
    alphas = [0.0] * STILL + [1.0] * (EVERY + moving)
    shifts = [0] * (STILL + EVERY) + [k // 2 for k in range(moving)]  # half a pixel a frame to the right
    frames = scene(background, face, alphas, shifts)
    gated, _ = run(detector, frames, GATE)
    today, _ = run(detector, frames, 0.0)
    window = slice(STILL + 2 * EVERY, len(frames))
    assert sum(full for full, _ in gated[window]) <= -(-moving // LONGEST) + 1
    assert sum(full for full, _ in today[window]) >= moving // EVERY - 1
    # the region search kept finding it on (almost) every frame in between
    assert sum(bool(boxes) for _, boxes in gated[window]) >= len(frames[window]) - 2


def test_the_exhaustive_mode_ignores_the_gate(pieces, detector):
    background, face = pieces
    frames = scene(background, face, [0.0] * 12)
    config = PipelineConfig(threads=1, mode="exhaustive", motion_gate=GATE, finalise=False)
    selector = Selector(detector, LaplacianVarianceScorer(), config=config)
    assert all(selector.feed(frame, i / 25.0).full_detection for i, frame in enumerate(frames))
    assert selector.work["full_postponed"] == 0


def test_a_still_track_is_searched_on_one_frame_in_still_region_every(pieces, detector):
    """``still_region_every = 2``: the still face's square is searched on every other frame counted
    from each full detection (counted as skipped on the others) and its track lives on; the same
    face moving 12 pixels a frame (about 9 % of its side) is searched on every frame."""
    background, face = pieces
    frames = scene(background, face, [1.0] * 48)
    moving = scene(background, face, [1.0] * 40, shifts=[12 * k for k in range(40)])
    counts = {}
    for name, clip in (("still", frames), ("moving", moving)):
        for every in (1, 2):
            config = PipelineConfig(threads=1, detect_every=EVERY, still_region_every=every, finalise=False)
            selector = Selector(detector, LaplacianVarianceScorer(), config=config)
            views = [selector.feed(frame, i / 25.0) for i, frame in enumerate(clip)]
            results = selector.flush()
            counts[name, every] = (selector.work, sum(bool(v.tracks) for v in views), len(results))
    still_work, still_seen, still_results = counts["still", 2]
    today_work, today_seen, today_results = counts["still", 1]
    assert today_work["regions_skipped"] == 0 and today_seen == len(frames)
    # 12 blocks of 4 frames (a full detection, then 3 region frames): the still face's square is
    # left out 1 and 3 frames after each full detection (24), once it has been seen twice
    assert 20 <= still_work["regions_skipped"] <= 24
    assert still_work["regions"] + still_work["regions_skipped"] == today_work["regions"]
    assert still_seen == len(frames) - still_work["regions_skipped"]  # a skipped frame has no detection
    assert still_results == today_results == 1  # one track all along
    assert counts["moving", 2][0]["regions_skipped"] == 0 and counts["moving", 2][1] == len(moving)


def test_with_the_gate_a_still_track_is_searched_while_something_else_moves(pieces, detector):
    """``still_region_every = 2`` with ``motion_gate``: the still face's square is left out only on
    frames where nothing moved outside the tracks; a real patch of the arcade frame sliding by on the
    far side of the scene (a body, a car) keeps it searched on every frame."""
    background, face = pieces
    clip = scene(background, face, [1.0] * 40)
    sliding = []
    for i, frame in enumerate(clip):
        frame = frame.copy()
        x = 450 + 6 * i  # the vault's columns, 80 x 120, moving right 6 pixels a frame
        frame[250:370, x : x + 80] = background[20:140, 20:100]
        sliding.append(frame)
    skipped = {}
    for name, frames in (("still", clip), ("sliding", sliding)):
        config = PipelineConfig(threads=1, detect_every=EVERY, motion_gate=GATE, motion_max_every=LONGEST,
                                still_region_every=2, finalise=False)
        selector = Selector(detector, LaplacianVarianceScorer(), config=config)
        views = [selector.feed(frame, i / 25.0) for i, frame in enumerate(frames)]
        selector.flush()
        skipped[name] = selector.work["regions_skipped"]
        assert sum(bool(v.tracks) for v in views) == len(frames) - skipped[name]
    assert skipped["still"] >= 10
    assert skipped["sliding"] == 0
