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


def simulate(governor, frames, cost, capacity=4, interval=0.04):
    """A paced live source and a pipeline, in frame intervals, with no clock: frame ``i`` arrives at
    time ``i``; the pipeline takes the oldest waiting frame when free and spends ``cost(i, full)``
    intervals on it (``full``: a full-frame detection by the governor's schedule, every
    ``governor.every`` frames taken); a frame that finds ``capacity`` frames waiting pushes the oldest
    out (a drop, and a gap in the sequence). Returns (drops, frames taken at each ``every``)."""
    from collections import Counter, deque

    pending, dropped, arrived, taken, free = deque(), 0, 0, 0, 0.0
    at_every = Counter()
    while arrived < frames or pending:
        while arrived < frames and (arrived <= free or not pending):
            if len(pending) == capacity:
                pending.popleft()
                dropped += 1
            pending.append(arrived)
            arrived += 1
        sequence = pending.popleft()
        start = max(free, float(sequence))
        governor.observe((start - sequence) * interval, interval, sequence, dropped)
        at_every[governor.every] += 1
        free = start + cost(sequence, taken % governor.every == 0)
        taken += 1
    return dropped, at_every


def fits_only_at_8(i, full):
    # 0.85 of an interval a frame plus 0.8 for a full detection: 1.05 a frame at every 4 (5 % too
    # slow), 0.95 at every 8 (5 % slack), 0.9 at 16
    return 0.85 + (0.8 if full else 0.0)


def test_a_load_that_fits_only_at_8_settles_there_where_the_old_rule_oscillates():
    new = ScheduleGovernor(DetectionSchedule(4), base=4, cap=16, capacity=4)  # refine_backoff = 2
    old = ScheduleGovernor(DetectionSchedule(4), base=4, cap=16, capacity=4, refine_backoff=1)
    new_drops, new_at = simulate(new, 6000, fits_only_at_8)
    old_drops, old_at = simulate(old, 6000, fits_only_at_8)
    old_changes, new_changes = old.coarsened + old.refined, new.coarsened + new.refined
    # the old rule tries every 4 again after each 75 calm frames, and the load undoes it each time
    # (overshooting to 16 on the way back: the failed schedule's backlog still waits)
    assert old.undone >= 20 and old_changes >= 40
    # the new one tries again after 150, 300, 600, 1200, 1200... calm frames
    assert new_changes * 3 <= old_changes and new.undone <= 8
    assert new.every == 8 and new.needed_calm == new.max_calm_frames == 1200
    assert new_at[8] > 0.75 * sum(new_at.values())
    assert new_at[4] * 2 < old_at[4] and new_at[16] * 2 < old_at[16]
    assert new_drops <= old_drops


def test_after_a_long_calm_the_schedule_returns_to_the_base_and_the_wait_resets():
    governor = ScheduleGovernor(DetectionSchedule(4), base=4, cap=16, capacity=4)
    before_easing = {}

    def eases(i, full):  # the load of the test above for 4000 frames, then a lighter one
        if i == 3999:
            before_easing.update(every=governor.every, needed=governor.needed_calm, undone=governor.undone)
        return fits_only_at_8(i, full) if i < 4000 else 0.5 + (0.8 if full else 0.0)

    simulate(governor, 4000 + governor.max_calm_frames + 400, eases)
    assert before_easing["every"] in (8, 16) and before_easing["needed"] >= 8 * governor.calm_frames
    # within max_calm_frames of slack the schedule is back at the base, the refinement held
    # (no more undone), and the next wait is calm_frames again
    assert governor.every == 4 and governor.undone == before_easing["undone"]
    assert governor.needed_calm == governor.calm_frames


def test_refine_backoff_is_checked():
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match="refine_backoff"):
            ScheduleGovernor(DetectionSchedule(4), base=4, cap=16, refine_backoff=bad)
    with pytest.raises(ValueError, match="max_calm_frames"):
        ScheduleGovernor(DetectionSchedule(4), base=4, cap=16, calm_frames=75, max_calm_frames=10)


# -- two tiers as the first step (issue 27, session 13) ------------------------------------------


class _NoDetector:
    """A detection stage's detector that is never called: these tests plan no frame."""

    def detect(self, frame):
        raise AssertionError("no frame is detected here")


def tiered_governor(**kwargs):
    """A governor that owns a real detection stage's two tiers (sparse mode, tiers off, fine_every 4)."""
    from facesel.config import PipelineConfig
    from facesel.detect.stage import DetectStage

    stage = DetectStage(_NoDetector(), PipelineConfig(detect_every=4))
    return ScheduleGovernor(stage.schedule, base=4, cap=16, stage=stage, **kwargs), stage


def levels(governor):
    return [(every, tiered) for _, _, every, _, _, _, tiered in governor.changes]


def test_the_first_step_turns_two_tiers_on_and_the_last_one_back_turns_them_off():
    governor, stage = tiered_governor(calm_frames=10)
    assert stage.tiers == (0, 4) and not governor.tiered
    sequence = feed(governor, [1.5] * 40)  # overloaded: every step up to the cap
    assert levels(governor) == [(4, True), (8, True), (16, True)]
    assert stage.tiers == (640, 4) and governor.tiers_on == 1 and governor.coarsened == 3
    feed(governor, [0.0] * 400, start=sequence)  # slack: back down in reverse
    assert levels(governor)[3:] == [(8, True), (4, True), (4, False)]
    assert stage.tiers == (0, 4) and stage.schedule.every == 4
    assert governor.tiers_off == 1 and governor.refined == 3


def test_without_a_stage_the_steps_are_the_old_ones():
    old = ScheduleGovernor(DetectionSchedule(4), base=4, cap=16, calm_frames=10)
    sequence = feed(old, [1.5] * 40)
    feed(old, [0.0] * 400, start=sequence)
    assert levels(old) == [(8, False), (16, False), (8, False), (4, False)]
    assert old.tiers_on == old.tiers_off == 0


def test_a_cap_at_the_base_leaves_the_tier_step_only():
    from facesel.config import PipelineConfig
    from facesel.detect.stage import DetectStage

    stage = DetectStage(_NoDetector(), PipelineConfig(detect_every=4))
    governor = ScheduleGovernor(stage.schedule, base=4, cap=4, stage=stage, calm_frames=10)
    feed(governor, [1.5] * 40)
    assert levels(governor) == [(4, True)] and stage.schedule.every == 4


def test_the_governor_refuses_a_stage_whose_tiers_are_on_and_bad_tier_settings():
    from facesel.config import PipelineConfig
    from facesel.detect.stage import DetectStage

    stage = DetectStage(_NoDetector(), PipelineConfig(detect_every=4, coarse_max_side=640))
    with pytest.raises(ValueError, match="already on"):
        ScheduleGovernor(stage.schedule, base=4, cap=16, stage=stage)
    off = DetectStage(_NoDetector(), PipelineConfig(detect_every=4))
    with pytest.raises(ValueError, match="coarse_side"):
        ScheduleGovernor(off.schedule, base=4, cap=16, stage=off, coarse_side=8)
    with pytest.raises(ValueError, match="fine_every"):
        ScheduleGovernor(off.schedule, base=4, cap=16, stage=off, fine_every=0)
    assert off.tiers == (0, 4)  # a refused governor left the stage as it was
    with pytest.raises(TypeError, match="set_tiers"):
        ScheduleGovernor(off.schedule, base=4, cap=16, stage=object())


def fits_only_with_tiers(governor):
    """0.85 of an interval a frame plus a full detection's share: 0.8 a fine one, 0.8 on average with
    two tiers on at fine_every 4 (one fine, three coarse at a quarter: (0.8 + 3 * 0.2) / 4 = 0.35).
    At detect_every 4: 1.05 a frame with one tier (5 % too slow), 0.94 with two (6 % slack)."""
    def cost(i, full):
        return 0.85 + ((0.35 if governor.tiered else 0.8) if full else 0.0)
    return cost


def test_refine_backoff_works_across_the_tier_step():
    # the load fits with two tiers at the base schedule, not with one: the governor settles with
    # two tiers on at 4, and tries to turn them off ever more rarely (the old rule: every 75 frames)
    new, _ = tiered_governor(capacity=4)
    old, _ = tiered_governor(capacity=4, refine_backoff=1)
    new_drops, new_at = simulate(new, 6000, fits_only_with_tiers(new))
    old_drops, old_at = simulate(old, 6000, fits_only_with_tiers(old))
    assert old.undone >= 20 and old.tiers_off >= 20  # each try at one tier undone
    assert new.undone <= 8 and (new.coarsened + new.refined) * 3 <= old.coarsened + old.refined
    assert new.level == (4, True) and new.needed_calm == new.max_calm_frames
    # each undone try overshoots to 8 (the backlog of one tier still waits): fewer tries, less time there
    assert new_at[8] * 2 < old_at[8] and new_at[4] > 0.8 * sum(new_at.values())
    assert new_drops <= old_drops


# -- settle_coarsening: no further coarser step while the last one's backlog drains (session 16) --


def test_settle_stops_the_climb_at_the_step_that_drains_the_backlog():
    # The load fits with two tiers at the base schedule, not with one (fits_only_with_tiers). Each
    # try at one tier builds a backlog; the step back to two tiers drains it, but the old rule sees
    # the wait still over half the queue when its 4-frame cooldown ends and steps on to 8.
    today, _ = tiered_governor(capacity=4)
    settle, _ = tiered_governor(capacity=4, settle_coarsening=True)
    today_drops, today_at = simulate(today, 6000, fits_only_with_tiers(today))
    settle_drops, settle_at = simulate(settle, 6000, fits_only_with_tiers(settle))
    assert today_at[8] > 0 and max(level[0] for level in levels(today)) == 8  # the overshoot
    assert settle_at[8] == 0 and all(level == (4, True) or level == (4, False) for level in levels(settle))
    assert (settle.coarsened + settle.refined) * 3 <= (today.coarsened + today.refined) * 2
    assert settle.level == (4, True) and settle_drops <= today_drops


def fits_only_at_16(i, full):
    # 0.85 of an interval a frame plus 1.6 for a full detection: 1.25 at every 4, 1.05 at 8, 0.95 at 16
    return 0.85 + (1.6 if full else 0.0)


def test_settle_still_climbs_while_the_backlog_grows():
    # Where the first coarser step is not enough the queue keeps growing: the settling governor
    # steps on within its cooldown and SETTLE_SPANS queue spans of its first step (or at the first
    # drop) and then holds the cap. What it costs against the old rule is counted: at most one frame.
    today = ScheduleGovernor(DetectionSchedule(4), base=4, cap=16, capacity=4)
    settle = ScheduleGovernor(DetectionSchedule(4), base=4, cap=16, capacity=4, settle_coarsening=True)
    today_drops, _ = simulate(today, 3000, fits_only_at_16)
    settle_drops, settle_at = simulate(settle, 3000, fits_only_at_16)
    assert today.every == settle.every == 16 and settle.coarsened == today.coarsened == 2
    first, second = (change[0] for change in list(settle.changes)[:2])
    assert second - first <= 4 + ScheduleGovernor.SETTLE_SPANS * settle.capacity + 1
    assert settle_at[4] + settle_at[8] <= 40  # the cap from about the 30th frame on
    assert settle_drops <= today_drops + 1


def test_settle_coarsening_is_checked():
    for bad in (1, "yes", None):
        with pytest.raises(ValueError, match="settle_coarsening"):
            ScheduleGovernor(DetectionSchedule(4), base=4, cap=16, settle_coarsening=bad)
