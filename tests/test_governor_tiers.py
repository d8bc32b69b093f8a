"""The load governor's two-tier step on real frames (issue 27, session 13).

``facesel serve``'s governor turns two-tier full-frame detection on as its first step under load
(``coarsen_with_tiers``): the detection stage must really switch tiers when the governor says so,
in the thread that plans frames, and a frame planned under one tier setting must be detected under
it even when the setting changes before its detection (the detection may run ahead in a thread of
its own). Counted on the arcade video's first frames (1920x1080): full-frame detections of each
tier (``full_coarse`` / ``full_fine``) and the size of the image each hands to the network.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from facesel import Selector
from facesel.config import PipelineConfig
from facesel.scoring import LaplacianVarianceScorer
from facesel.selector import default_detector
from facesel.serve.scheduler import TIER_COARSE_SIDE, ScheduleGovernor
from video_frames import first_frames

FRAMES = 60  # 20 with one tier, 20 with two, 20 with one again; a full detection every 4


class RecordingDetector:
    """The default YuNet, recording the longer side of every image its ``detect`` gets (the
    full-frame detections; the region search goes through ``detect_squares``)."""

    def __init__(self, detector):
        self.detector = detector
        self.sides: list[int] = []

    def detect(self, image):
        self.sides.append(max(image.shape[:2]))
        return self.detector.detect(image)

    def __getattr__(self, name):  # max_side, detect_squares, region_search, thread_safe ...
        return getattr(self.detector, name)


@pytest.fixture(scope="module")
def frames(shared_data):
    return first_frames(shared_data / "videos" / "arcade_walkers_1080p.mp4", FRAMES)


def overload(governor, start):
    """Frames that waited the whole queue: the governor's first step at once. Returns the next sequence."""
    for i in range(start, start + 2):
        governor.observe(0.04 * 4, 0.04, i, 0)
        if governor.coarsened:
            return i + 1
    raise AssertionError("the governor did not coarsen")


def test_the_stage_switches_tiers_when_the_governor_says_so(frames):
    detector = RecordingDetector(default_detector())
    config = PipelineConfig(threads=1, finalise=False, scene_change=0.0, detect_every=4)
    selector = Selector(detector, LaplacianVarianceScorer(), config=config)
    stage = selector.detect_stage
    governor = ScheduleGovernor(selector.schedule, base=4, cap=4, stage=stage, calm_frames=2)
    counts = []
    for i, frame in enumerate(frames):
        if i == 20:
            sequence = overload(governor, 0)
            assert governor.tiered and stage.tiers == (TIER_COARSE_SIDE, 4)
        if i == 40:
            for j in range(sequence, sequence + 20):  # slack: the last step back turns them off
                governor.observe(0.0, 0.04, j, 0)
            assert not governor.tiered and governor.tiers_off == 1 and stage.tiers == (0, 4)
        selector.feed(frame, i / 25.0)
        counts.append((stage.full_fine, stage.full_coarse))
    selector.flush()
    # frames 0-19: one tier (fulls on 0, 4, ..., 16: all fine)
    assert counts[19] == (5, 0)
    # frames 20-39 with two tiers, fine_every 4 counted on from the fine full of frame 16:
    # 20, 24, 28 coarse, 32 fine, 36 coarse
    assert counts[39][1] == 4 and counts[39][0] == 6
    # frames 40-59: one tier again, all fine
    assert counts[59] == (11, 4)
    assert selector.work["full_coarse"] == 4 and selector.work["full_fine"] == 11
    # what the detector was handed: the coarse passes shrunk to 640, the fine ones the whole frame
    # (the detector shrinks it to its max_side itself)
    assert sorted(set(detector.sides)) == [TIER_COARSE_SIDE, max(frames[0].shape[:2])]
    assert detector.sides.count(TIER_COARSE_SIDE) == 4


def test_a_frame_planned_coarse_is_detected_coarse_after_the_tiers_change(frames):
    """The detection running ahead in a thread of its own uses the tier read when the frame was
    planned: the governor turning tiers off in between changes the next frames only."""
    detector = RecordingDetector(default_detector())
    config = PipelineConfig(threads=2, finalise=False, scene_change=0.0, detect_every=1)
    selector = Selector(detector, LaplacianVarianceScorer(), config=config)
    stage = selector.detect_stage
    empty = np.zeros((0, 4), np.float32)
    held = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        stage.detect(frames[0], empty)  # the first full detection is fine
        stage.set_tiers(TIER_COARSE_SIDE, 4)
        pool.submit(held.wait, 30)  # the pool's one thread is busy: the detection below waits its turn
        planned = stage.plan(frames[1], pool)
        assert planned.full and planned.coarse and planned.ahead is not None
        stage.set_tiers(0, 4)  # off before the frame's detection has even started
        held.set()
        stage.detect(frames[1], empty, planned)
        stage.detect(frames[2], empty)
    whole = max(frames[0].shape[:2])  # a fine pass: the frame as it is (the detector shrinks it itself)
    assert detector.sides == [whole, TIER_COARSE_SIDE, whole]
    assert (stage.full_fine, stage.full_coarse) == (2, 1)


def test_set_tiers_is_checked_and_ignored_in_the_exhaustive_mode():
    selector = Selector(default_detector(), LaplacianVarianceScorer(), config=PipelineConfig(threads=1))
    for side, every, name in ((8, 4, "coarse_side"), (-1, 4, "coarse_side"), (640, 0, "fine_every"),
                              (True, 4, "coarse_side"), (640, 2.0, "fine_every")):
        with pytest.raises(ValueError, match=name):
            selector.detect_stage.set_tiers(side, every)
    exhaustive = Selector(default_detector(), LaplacianVarianceScorer(),
                          config=PipelineConfig(threads=1, mode="exhaustive"))
    exhaustive.detect_stage.set_tiers(TIER_COARSE_SIDE, 4)
    assert exhaustive.detect_stage.coarse_side == 0
