"""The load governor of ``facesel serve`` (facesel.serve.scheduler), on given waits: no clock involved."""

from __future__ import annotations

import pytest
from facesel.detect.schedule import DetectionSchedule
from facesel.serve.scheduler import ScheduleGovernor


def feed(governor, waits, interval=0.04, start=0, dropped=0):
    for i, wait in enumerate(waits):
        governor.observe(wait * interval, interval, start + i, dropped)
    return start + len(waits)


def test_growing_waits_double_the_schedule_up_to_the_cap_before_any_drop():
    governor = ScheduleGovernor(DetectionSchedule(4), base=4, cap=16)
    # A pipeline 10 % slower than the source: each frame waits a tenth of an interval more.
    waits = [min(0.95, 0.1 * i) for i in range(40)]
    feed(governor, waits)
    assert governor.every == 16 and governor.coarsened == 2
    assert governor.dropped_before_first_coarsening == 0
    # The first step came while frames still waited less than an interval (before a drop).
    first = ScheduleGovernor(DetectionSchedule(4), base=4, cap=16)
    for i, wait in enumerate(waits):
        first.observe(wait * 0.04, 0.04, i, 0)
        if first.coarsened:
            break
    assert wait < 1.0


def test_slack_brings_the_schedule_back_step_by_step_never_below_the_base():
    governor = ScheduleGovernor(DetectionSchedule(2), base=2, cap=8, calm_frames=10)
    sequence = feed(governor, [1.5] * 30)
    assert governor.every == 8
    sequence = feed(governor, [0.0] * 25, start=sequence)
    assert governor.every == 4 and governor.refined == 1
    feed(governor, [0.0] * 200, start=sequence)
    assert governor.every == 2 and governor.refined == 2


def test_a_gap_in_the_sequence_counts_as_overload():
    governor = ScheduleGovernor(DetectionSchedule(1), base=1, cap=4)
    governor.observe(0.0, 0.04, 0, 0)
    governor.observe(0.0, 0.04, 3, 2)  # two frames dropped since the last one: coarsened at once
    assert governor.every == 2 and governor.dropped_before_first_coarsening == 2
    assert governor.observed_before_first_coarsening == governor.observed_before_first_drop == 1
    for i in range(2, 10):
        governor.observe(0.0, 0.04, 3 * i, 2 * i)  # no wait seen, but two frames dropped between each
    assert governor.every > 1


def test_unknown_frame_rate_changes_nothing_and_bad_settings_are_refused():
    governor = ScheduleGovernor(DetectionSchedule(4), base=4, cap=16)
    for i in range(50):
        governor.observe(5.0, None, i)
    assert governor.every == 4 and governor.coarsened == 0
    with pytest.raises(ValueError, match="cap"):
        ScheduleGovernor(DetectionSchedule(4), base=4, cap=2)
    with pytest.raises(ValueError, match="base"):
        ScheduleGovernor(DetectionSchedule(4), base=0, cap=2)
