"""``region_miss_limit`` (issue 27, session 12): the square of a track missed on its last N frames
is no longer searched until a full-frame detection finds the face again, counted on real pixels.

A real walker's face from an arcade frame on the arcade video's still ceiling (as in
tests/test_motion_gate.py): present, then gone (it left the view: nothing in its square to find),
then back at the same place. Today's rule (``region_miss_limit = 0``) runs on the same frames for
the counts to compare.
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

EVERY = 4
PRESENT, GONE, BACK = 16, 14, 16  # frames of each part of the scene


@pytest.fixture(scope="module")
def clip(shared_data):
    """The scene's frames, (400, 800, 3) uint8 each, and the frame index where the face comes back."""
    background, face = arcade_ceiling_and_face(shared_data)
    rng = np.random.default_rng(0)
    out = []
    for present in [True] * PRESENT + [False] * GONE + [True] * BACK:
        frame = background.astype(np.float32)
        if present:
            frame[100:310, 120:300] = face
        frame += rng.normal(0.0, 2.0, frame.shape).astype(np.float32)  # a still camera's noise
        out.append(np.clip(np.rint(frame), 0, 255).astype(np.uint8))
    return out, PRESENT + GONE


@pytest.fixture(scope="module")
def detector():
    cv2.setNumThreads(1)
    return default_detector()


def run(detector, frames, limit: int, mode: str = "sparse"):
    """Per frame the detected tracks' boxes (rounded), the results, the Selector's work counts."""
    config = PipelineConfig(threads=1, mode=mode, detect_every=EVERY, region_miss_limit=limit, finalise=False)
    selector = Selector(detector, LaplacianVarianceScorer(), config=config)
    views = [selector.feed(frame, i / 25.0) for i, frame in enumerate(frames)]
    results = selector.flush()
    return [[np.round(t.box).tolist() for t in v.tracks] for v in views], results, selector.work


def test_a_lost_track_costs_no_square_and_the_face_is_found_again(clip, detector):
    frames, back = clip
    today_boxes, today_results, today = run(detector, frames, 0)
    boxes, results, work = run(detector, frames, 1)
    assert today["regions_lost"] == 0
    # today the gone face's square is searched on every region frame until max_age closes the track
    # (10 of the 14 frames gone, 3 of 4 of them region frames); with the limit, after one miss none is
    assert work["regions_lost"] >= 5
    # the squares left out found nothing today either: the same detections on every frame, and the
    # searched squares plus the left-out ones are today's
    assert boxes == today_boxes
    assert work["regions"] + work["regions_lost"] == today["regions"]
    assert work["full_detections"] == today["full_detections"]
    # the face is found again when it comes back, within one full-detection interval, as today
    first_back = next(i for i in range(back, len(frames)) if boxes[i])
    assert first_back - back < EVERY
    assert len(results) == len(today_results) >= 1


def test_a_face_missed_once_is_still_searched_with_limit_two(clip, detector):
    """With ``region_miss_limit = 2`` a square is left out only after two misses in a row: fewer
    squares are left out than with 1, and the present face, found on every frame, never is."""
    frames, _ = clip
    one = run(detector, frames, 1)[2]
    two = run(detector, frames, 2)[2]
    assert 0 < two["regions_lost"] < one["regions_lost"]
    present = run(detector, frames[:PRESENT], 1)[2]
    assert present["regions_lost"] == 0 and present["regions"] > 0


def test_the_exhaustive_mode_ignores_the_limit(clip, detector):
    frames, _ = clip
    work = run(detector, frames[: PRESENT + GONE], 1, mode="exhaustive")[2]
    assert work["regions_lost"] == 0 and work["regions"] == 0
    assert work["full_detections"] == PRESENT + GONE


def test_a_negative_limit_is_refused():
    with pytest.raises(ValueError, match="region_miss_limit"):
        PipelineConfig(region_miss_limit=-1)
