"""``peak_detect`` (issue 27, session 19): a coarsened camera moves its next full-frame detection to
the frame after a track's quality rose to a new high in its region square, without adding any.

The schedule's rule is checked on blank frames (which frame is searched whole, and that the count
stays the schedule's); the Selector's wiring on the arcade video's first frames at the governor's cap
(``detect_every`` 16, two tiers): detections are moved only right after a rise, each moved one
searches the whole frame at ``max_side``, and the count of full-frame detections is that of the run
without it. (What it does to the choice is measured, not tested: docs/performance.md, "Session 19".)
"""

from __future__ import annotations

import numpy as np
import pytest
from facesel import Selector
from facesel.config import PipelineConfig
from facesel.detect.schedule import DetectionSchedule
from facesel.selector import default_detector
from facesel.serve.pipeline_adapter import check_pipeline_settings, make_scorer
from video_frames import first_frames

BLANK = np.zeros((32, 32, 3), np.uint8)
CAP = {"detect_every": 16, "coarse_max_side": 640, "fine_every": 4}  # serve's governor at its cap
FRAMES = 104  # the arcade video's first 104 frames (of 105)


def full_frames(schedule: DetectionSchedule, frames: int, requests=()) -> list[int]:
    """The frames ``schedule`` searches whole, with request_full called just before each of ``requests``."""
    out = []
    for i in range(frames):
        if i in requests:
            schedule.request_full()
        if schedule.full_frame(BLANK):
            out.append(i)
    return out


def test_a_request_moves_the_next_detection_and_keeps_the_grid():
    assert full_frames(DetectionSchedule(16), 64) == [0, 16, 32, 48]
    schedule = DetectionSchedule(16)
    # before frame 10 the next was due on 16 (6 ahead, within 16 // 2): moved; the next stays on 32
    assert full_frames(schedule, 64, requests={10}) == [0, 10, 32, 48]
    assert schedule.moved_early == 1 and schedule.full == 4


def test_a_request_too_early_or_on_a_due_frame_moves_nothing():
    schedule = DetectionSchedule(16)
    # before frame 5 the next full detection was 11 frames ahead (> 8): forgotten, not carried to frame 8
    assert full_frames(schedule, 40, requests={5, 16}) == [0, 16, 32]
    assert schedule.moved_early == 0
    # with a phase the first gap is the phase: the rule counts from it
    phased = DetectionSchedule(8)
    phased.set_phase(3)
    assert full_frames(phased, 30, requests={2, 6}) == [0, 2, 11, 19, 27]  # 6: 5 ahead of 11 (> 4)
    assert phased.moved_early == 1


def test_every_one_never_moves():
    schedule = DetectionSchedule(1)
    assert full_frames(schedule, 5, requests={1, 2}) == [0, 1, 2, 3, 4]
    assert schedule.moved_early == 0


def test_the_setting_is_a_bool_and_off_by_default():
    assert PipelineConfig().peak_detect is False
    assert PipelineConfig(peak_detect=True).peak_detect is True
    with pytest.raises((TypeError, ValueError), match="peak_detect"):
        PipelineConfig(peak_detect=1)
    with pytest.raises((TypeError, ValueError), match=r"cameras\.door\.pipeline\.peak_detect"):
        check_pipeline_settings({"peak_detect": "yes"}, "cameras.door.pipeline")


@pytest.fixture(scope="module")
def frames(shared_data):
    return first_frames(shared_data / "videos" / "arcade_walkers_1080p.mp4", FRAMES)


def run(frames, **settings):
    """(frames searched whole: index -> coarse?, frames after which a move was asked, the Selector's work)."""
    config = PipelineConfig(threads=1, finalise=False, consensus_finalists=0, **CAP, **settings)
    selector = Selector(default_detector(config), make_scorer("default", config), config=config)
    stage, schedule = selector.detect_stage, selector.schedule
    full, asked = {}, []
    plan, request = stage.plan, schedule.request_full

    def planned(frame, executor=None):
        p = plan(frame, executor)
        if p.full:
            full[len(full_or_not)] = (p.coarse, schedule.early)
        full_or_not.append(p.full)
        return p
    full_or_not: list[bool] = []

    def requested():
        asked.append(len(full_or_not) - 1)  # the frame whose scores asked
        request()
    stage.plan, schedule.request_full = planned, requested
    for i, frame in enumerate(frames):
        selector.feed(frame, i / 25.0)
    selector.flush()
    return full, asked, selector.work


def test_on_real_video_detections_move_to_rises_and_are_not_added(frames):
    plain, plain_asked, plain_work = run(frames)
    moved, asked, work = run(frames, peak_detect=True)
    assert plain_asked == []  # off: never asked
    assert not any(early for _, early in plain.values())
    early = sorted(i for i, (_, e) in moved.items() if e)
    assert early, "no detection moved on 104 frames of a crowd at detect_every 16"
    # a moved detection falls on the frame right after a rise found in the region squares
    assert all(i - 1 in asked for i in early)
    assert all(i - 1 not in moved for i in early)  # the rise was on a frame searched in squares
    # ... and searches the whole frame at max_side (never the coarse tier)
    assert not any(moved[i][0] for i in early)
    # the count of full-frame detections is the schedule's (the last interval may be cut by the end)
    assert abs(work["full_detections"] - plain_work["full_detections"]) <= 1
    assert work["full_detections"] == len(moved)


def rising_calls(frames, **settings) -> tuple[int, int]:
    """(calls of ScoreStage._rising, frames searched in region squares only) over ``frames``."""
    config = PipelineConfig(threads=1, finalise=False, consensus_finalists=0, **CAP, **settings)
    selector = Selector(default_detector(config), make_scorer("default", config), config=config)
    stage = selector._score
    calls, inner = [0], stage._rising

    def counted(ids, values):
        calls[0] += 1
        return inner(ids, values)
    stage._rising = counted
    region_frames = sum(not selector.feed(frame, i / 25.0).full_detection for i, frame in enumerate(frames))
    selector.flush()
    return calls[0], region_frames


def test_rises_are_looked_for_only_where_peak_detect_acts(frames):
    # off (serve's default) and in the exhaustive mode nobody reads them: not compared at all
    assert rising_calls(frames[:40])[0] == 0
    assert rising_calls(frames[:40], peak_detect=True, mode="exhaustive")[0] == 0
    # on: once on every frame searched in region squares only
    calls, region_frames = rising_calls(frames[:40], peak_detect=True)
    assert region_frames > 0 and calls == region_frames
