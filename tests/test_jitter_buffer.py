"""The source's bounded frame queue (``buffer_frames``, issue 27): bursts shorter than the queue
lose no frame, a full live queue drops its oldest frames (counted), 1 is today's one-frame slot,
and the load governor coarsens the detection schedule before the queue overflows.

No clock is measured: a scripted connection hands over one frame each time the test says so (a
frame interval), and the consumer's stalls are counted in frames that arrive meanwhile. The
governor tests run on an injected clock that the test moves one interval per frame.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from facesel.detect.schedule import DetectionSchedule
from facesel.serve.config import parse_config
from facesel.serve.scheduler import ScheduleGovernor
from facesel.sources import EndOfStream, StreamSource, make_source

from test_serve import authority, camera, config_dict, keys, videos  # noqa: F401 - module fixtures
from test_sources import wait_for

INTERVAL = 0.04  # 25 frames/s


class ScriptedCamera:
    """A connection factory whose frames arrive when :meth:`arrive` is called (not on a clock)."""

    finite = True

    def __init__(self):
        self._due = threading.Semaphore(0)
        self._closed = threading.Event()
        self.reads = 0

    def __call__(self):
        return self  # one connection for the whole test

    def read(self):
        while not self._due.acquire(timeout=0.05):
            if self._closed.is_set():
                raise EndOfStream()
        self.reads += 1
        return np.full((4, 4, 3), self.reads % 256, np.uint8), None

    def close(self):
        pass

    def finish(self):
        self._closed.set()


class FakeClock:
    def __init__(self):
        self.now = 50.0

    def __call__(self):
        return self.now


@pytest.fixture
def scripted():
    """``scripted(**source_kwargs)``: (source started on a ScriptedCamera, arrive(n)); stopped after."""
    made = []

    def build(clock=None, **kwargs):
        cam = ScriptedCamera()
        extra = {"clock": clock} if clock is not None else {}
        source = StreamSource("scripted", cam, reconnect=False, **kwargs, **extra).start()
        made.append((cam, source))

        def arrive(n=1):
            """``n`` frame intervals pass: ``n`` frames arrive, each received before the next."""
            for _ in range(n):
                expected = cam.reads + 1
                if clock is not None:
                    clock.now += INTERVAL
                cam._due.release()
                assert wait_for(lambda: source.stats.frames_received >= expected)
        arrive.camera = cam
        return source, arrive
    yield build
    for cam, source in made:
        cam.finish()
        source.stop()


def drain(source):
    """Every waiting frame's sequence number, oldest first."""
    taken = []
    while source.pending:
        taken.append(source.read(0).sequence)
    return taken


def test_a_stall_shorter_than_the_buffer_loses_no_frame_and_keeps_the_order(scripted):
    source, arrive = scripted(live=True, buffer_frames=5)
    arrive(1)
    assert drain(source) == [0]
    arrive(4)  # the consumer stalls for 4 frame intervals: the queue holds them all
    assert source.pending == 4
    assert drain(source) == [1, 2, 3, 4]
    arrive(5)  # exactly the buffer
    assert drain(source) == [5, 6, 7, 8, 9]
    assert source.stats.frames_dropped == 0 and source.stats.frames_received == 10


def test_a_longer_stall_drops_the_oldest_frames_counted(scripted):
    source, arrive = scripted(live=True, buffer_frames=5)
    arrive(8)  # 3 more frames than the queue holds
    assert source.pending == 5
    assert source.stats.frames_dropped == 3
    # The consumer is never more than the buffer behind: the 5 newest, in order.
    assert drain(source) == [3, 4, 5, 6, 7]
    stats = source.stats
    assert stats.frames_received == 5 + stats.frames_dropped


def test_one_frame_buffer_is_the_old_slot_newest_frame_wins(scripted):
    source, arrive = scripted(live=True, buffer_frames=1)
    arrive(4)
    assert source.pending == 1 and source.stats.frames_dropped == 3
    assert drain(source) == [3]
    arrive(1)
    assert source.read(0).sequence == 4 and source.stats.frames_dropped == 3


def test_not_live_the_reader_waits_when_the_buffer_is_full(scripted):
    cam_source, arrive = scripted(live=False, buffer_frames=3)
    arrive(3)
    cam = arrive.camera
    cam._due.release()  # a 4th frame is decoded but has no room: the reader waits
    assert wait_for(lambda: cam.reads == 4)
    assert cam_source.stats.frames_received == 3 and cam_source.pending == 3
    assert cam_source.read(0).sequence == 0
    assert wait_for(lambda: cam_source.stats.frames_received == 4)
    assert drain(cam_source) == [1, 2, 3] and cam_source.stats.frames_dropped == 0


def test_a_queued_frame_keeps_its_arrival_time(scripted):
    """Latency counts from a frame's arrival in the queue, not from when the pipeline took it."""
    clock = FakeClock()
    source, arrive = scripted(live=True, buffer_frames=4, clock=clock)
    arrive(3)
    clock.now += 10 * INTERVAL  # the pipeline takes them much later
    arrived = [source.read(0).arrived for _ in range(3)]
    assert arrived == pytest.approx([50.0 + INTERVAL, 50.0 + 2 * INTERVAL, 50.0 + 3 * INTERVAL])


@pytest.mark.parametrize("value", [0, -2, 2.5, "8", True, None])
def test_the_source_refuses_a_bad_buffer(value):
    with pytest.raises(ValueError, match=r"buffer_frames must be an integer >= 1"):
        StreamSource("x", ScriptedCamera(), buffer_frames=value)
    with pytest.raises(ValueError, match=r"buffer_frames"):
        make_source("rtsp://127.0.0.1:1/x", buffer_frames=value)


# -- the load governor on a buffered source ----------------------------------------------------

def overload(source, arrive, clock, governor, steps, speed):
    """The source delivers a frame per interval; the consumer takes ``speed`` frames per interval
    (< 1: too slow) and shows each one's wait to the governor. Returns (step, source drops, queue
    depth) at the governor's first coarsening, or None."""
    credit, first = 0.0, None
    for step in range(steps):
        arrive(1)
        credit += speed
        while credit >= 1 and source.pending:
            credit -= 1
            frame = source.read(0)
            governor.observe(clock.now - frame.arrived, INTERVAL, frame.sequence, source.stats.frames_dropped)
            if governor.coarsened and first is None:
                first = (step, source.stats.frames_dropped, source.pending)
    return first


def test_the_governor_coarsens_before_the_buffer_overflows(scripted):
    clock = FakeClock()
    source, arrive = scripted(live=True, buffer_frames=8, clock=clock)
    governor = ScheduleGovernor(DetectionSchedule(2), base=2, cap=16, capacity=8)
    # A consumer 20 % slower than the camera (its speed does not follow the schedule here, so
    # the queue fills and overflows in the end: the drops below show the load was real).
    first = overload(source, arrive, clock, governor, steps=80, speed=0.8)
    assert first is not None, "never coarsened"
    print("first coarsening at step, drops, depth:", first, "drops in the end:", source.stats.frames_dropped)
    step, dropped_then, depth_then = first
    assert dropped_then == 0 and governor.dropped_before_first_coarsening == 0
    assert depth_then < 8  # room was left in the queue
    assert source.stats.frames_dropped > 0  # the overload went on to overflow the queue
    assert governor.observed_before_first_drop is None or \
        governor.observed_before_first_coarsening < governor.observed_before_first_drop


def test_a_burst_the_buffer_absorbs_does_not_coarsen(scripted):
    """A 3-interval stall (a seal, say) with an 8-frame buffer: no drop and no coarsening; the
    same waits measured against a one-frame slot would have coarsened."""
    clock = FakeClock()
    source, arrive = scripted(live=True, buffer_frames=8, clock=clock)
    buffered = ScheduleGovernor(DetectionSchedule(2), base=2, cap=16, capacity=8)
    slot = ScheduleGovernor(DetectionSchedule(2), base=2, cap=16, capacity=1)

    def take():
        frame = source.read(0)
        for governor in (buffered, slot):
            governor.observe(clock.now - frame.arrived, INTERVAL, frame.sequence, source.stats.frames_dropped)

    for _ in range(20):  # keeping up: each frame taken as it arrives
        arrive(1)
        take()
    arrive(3)  # the stall
    for _ in range(10):  # catching up: two frames an interval until the queue is empty
        arrive(1)
        for _ in range(min(2, source.pending)):
            take()
    assert source.pending == 0 and source.stats.frames_dropped == 0
    assert buffered.coarsened == 0 and buffered.every == 2
    assert slot.coarsened >= 1


def test_the_governor_refuses_a_bad_capacity():
    with pytest.raises(ValueError, match="capacity"):
        ScheduleGovernor(DetectionSchedule(2), base=2, cap=4, capacity=0)


# -- the serve setting -------------------------------------------------------------------------

@pytest.mark.parametrize("value", [0, -1, 2.5, "8", True])
def test_config_buffer_frames_is_checked_and_named(videos, authority, keys, tmp_path, value):
    data = config_dict(authority, {"door": camera(videos / "intel_head_pose_female.gif", tmp_path / "v", keys("door"),
                                                  buffer_frames=value)})
    with pytest.raises(ValueError) as err:
        parse_config(data)
    assert f"cameras.door.buffer_frames must be an integer >= 1 (frames), got {value!r}" in str(err.value)


@pytest.mark.parametrize("key", ["buffer_frames", "flush_buffer_frames", "cap_buffer_frames", "max_detect_every"])
def test_a_typo_sized_buffer_or_detection_cap_is_refused_naming_key_and_value(videos, authority, keys, tmp_path, key):
    # 100000000 frames of 1080p would be hundreds of TB if the pipeline fell behind: a typo, refused
    # at the config's check; the largest allowed value still passes.
    gif = videos / "intel_head_pose_female.gif"
    data = config_dict(authority, {"door": camera(gif, tmp_path / "v", keys("door"), **{key: 100000000})})
    with pytest.raises(ValueError) as err:
        parse_config(data)
    assert f"cameras.door.{key} must be at most 256" in str(err.value) and "got 100000000" in str(err.value)
    data = config_dict(authority, {"door": camera(gif, tmp_path / "v", keys("door"), **{key: 256})})
    assert getattr(parse_config(data).cameras["door"], key) == 256


def test_the_source_refuses_a_typo_sized_buffer():
    with pytest.raises(ValueError, match=r"buffer_frames must be at most 256 frames .*got 100000000"):
        StreamSource("x", ScriptedCamera(), buffer_frames=100000000)
    assert StreamSource("x", ScriptedCamera(), buffer_frames=256).buffer_frames == 256


def test_config_buffer_frames_default_per_camera_and_from_defaults(videos, authority, keys, tmp_path):
    gif = videos / "intel_head_pose_female.gif"
    data = config_dict(authority, {"door": camera(gif, tmp_path / "v1", keys("door")),
                                   "hall": camera(gif, tmp_path / "v2", keys("hall"), buffer_frames=1)})
    cams = parse_config(data).cameras
    assert cams["door"].buffer_frames == 4 and cams["hall"].buffer_frames == 1
    data["defaults"]["buffer_frames"] = 3
    cams = parse_config(data).cameras
    assert cams["door"].buffer_frames == 3 and cams["hall"].buffer_frames == 1


def test_a_serve_camera_queues_its_buffer_and_its_governor_measures_against_it(videos, authority, keys, tmp_path):
    from facesel.serve.service import Service

    gif = videos / "intel_head_pose_female.gif"
    data = config_dict(authority, {"door": camera(gif, tmp_path / "v", keys("door"), loop=True, live=True,
                                                  buffer_frames=5, pipeline={"scorer": "laplacian", "mode": "sparse"})},
                       listen="")
    service = Service(parse_config(data)).start()
    try:
        (cam,) = service.camera_list()
        assert wait_for(lambda: cam.source is not None and cam.processed > 0, timeout=60)
        buffer, capacity = cam.source.buffer_frames, cam.governor.capacity
        assert cam.source.pending <= 5
    finally:
        assert service.stop(timeout=60) == []
    assert buffer == capacity == 5
