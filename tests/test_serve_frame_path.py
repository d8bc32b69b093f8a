"""What runs on a camera's frame path (issue 27, session 12): seals in a writer thread of their own,
and cameras that take turns for their full-frame detections.

Real components for the camera tests: the shared arcade video read as a file (every frame, no
pacing, so the frame numbers are the video's), YuNet, the shipped VAE, real vaults. The sealer's
own tests use a recording sink (the ordering and failure rules, nothing about the vault). No
wall-clock thresholds: the tests count frames, seals and threads.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from facesel.detect.schedule import DetectionSchedule
from facesel.serve.camera import Camera
from facesel.serve.sealer import BackgroundSealer
from facesel.serve.service import Service
from test_serve import authority, keys, videos  # noqa: F401 - module fixtures
from test_serve_capacity import arcade_camera, serve_config
from test_sources import wait_for


# -- the schedule's phase ------------------------------------------------------------------------
def _full_frames(schedule: DetectionSchedule, frames: int) -> list[int]:
    frame = np.zeros((72, 128, 3), np.uint8)
    return [k for k in range(frames) if schedule.full_frame(frame)]


def test_a_phase_moves_the_full_detections_after_the_first_frame():
    assert _full_frames(DetectionSchedule(4), 13) == [0, 4, 8, 12]
    shifted = DetectionSchedule(4)
    shifted.set_phase(2)
    assert _full_frames(shifted, 13) == [0, 2, 6, 10]
    wrapped = DetectionSchedule(4)
    wrapped.set_phase(5)  # a phase of every + 1 is a phase of 1
    assert _full_frames(wrapped, 10) == [0, 1, 5, 9]


def test_a_phase_is_refused_when_bad_or_too_late():
    schedule = DetectionSchedule(4)
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="phase"):
            schedule.set_phase(bad)
    _full_frames(schedule, 1)
    with pytest.raises(RuntimeError, match="before the first frame"):
        schedule.set_phase(1)


# -- cameras taking turns --------------------------------------------------------------------------
@pytest.mark.parametrize("stagger", [True, False])
def test_cameras_run_their_full_detections_on_different_frames(videos, authority, keys, tmp_path, monkeypatch, stagger):
    decided: dict[int, list[bool]] = {}
    original = DetectionSchedule.full_frame

    def recording(self, frame, tracked=None):
        full = original(self, frame, tracked)
        decided.setdefault(id(self), []).append(full)
        return full

    monkeypatch.setattr(DetectionSchedule, "full_frame", recording)
    names = ("a", "b", "c", "d")
    # every frame of the file, unpaced and not dropped: frame k of the pipeline is frame k of the video
    cameras = {n: arcade_camera(videos, tmp_path / n, keys(n), {"detect_every": 4, "scene_change": 0.0},
                                loop=False, realtime=False, live=False, coarsen_detection=False,
                                stagger_detection=stagger) for n in names}
    service = Service(serve_config(authority, cameras)).start()
    try:
        assert wait_for(lambda: all(cam.processed >= 21 for cam in service.camera_list()), timeout=300)
        cams = service.camera_list()
        phases = [cam.detection_phase() for cam in cams]
        full = [{k for k, f in enumerate(decided[id(cam.adapter.selector.schedule)][:21]) if f} - {0} for cam in cams]
    finally:
        assert service.stop(timeout=120) == []
    if stagger:
        assert sorted(phases) == [0, 1, 2, 3]
        # frames 1..20: no frame number is searched whole by two cameras
        for i in range(len(full)):
            for j in range(i + 1, len(full)):
                assert not full[i] & full[j], (full[i], full[j])
        assert all(len(f) == 5 for f in full)  # still one full detection in every 4 frames
    else:
        assert phases == [0, 0, 0, 0]
        assert full[0] == full[1] == full[2] == full[3] == {4, 8, 12, 16, 20}


def test_a_camera_alone_or_in_the_exhaustive_mode_keeps_phase_zero(videos, authority, keys, tmp_path):
    config = serve_config(authority, {"a": arcade_camera(videos, tmp_path / "a", keys("a")),
                                      "b": arcade_camera(videos, tmp_path / "b", keys("b"), {"mode": "exhaustive"})})
    assert Camera(config.cameras["a"], slot=(0, 1)).detection_phase() == 0
    assert Camera(config.cameras["a"], slot=(3, 4)).detection_phase() == 3
    assert Camera(config.cameras["b"], slot=(3, 4)).detection_phase() == 0


# -- the background sealer -------------------------------------------------------------------------
class _Recording:
    """A sink that records what it is given and on which thread; ``fail_on`` raises for that result."""

    def __init__(self, fail_on=None):
        self.calls, self.threads, self.sealed, self.fail_on = [], set(), 0, fail_on
        self.gate = threading.Event()
        self.gate.set()

    def write(self, result):
        self.gate.wait()
        self.threads.add(threading.current_thread().name)
        if result == self.fail_on:
            raise OSError(f"disk full at {result}")
        self.calls.append(("write", result))
        self.sealed += 1

    def tick(self, now):
        self.calls.append(("tick", now))

    def close(self):
        self.calls.append(("close", None))


def test_the_sealer_writes_in_order_on_its_own_thread_and_drain_waits_for_all():
    sink = _Recording()
    sink.gate.clear()  # the writer is held: write() must return without sealing
    finished = []
    sealer = BackgroundSealer(lambda: sink, finish=lambda opened: finished.append(threading.current_thread().name),
                              name="sealer:test")
    for k in range(5):
        sealer.write(k)
    assert sink.calls == [] and sealer.handed == 5
    sealer.tick(1.0)
    sink.gate.set()
    sealer.write(5)
    sealer.close()  # the sink interface's close: drains first
    assert sink.calls == [("write", k) for k in range(5)] + [("tick", 1.0), ("write", 5), ("close", None)]
    assert sink.threads == {"sealer:test"} and sealer.sealed == 6
    assert finished == ["sealer:test"]  # finish (the camera closes its vault there) on the writer thread, last


def test_a_failed_seal_is_raised_on_the_pipelines_thread_and_later_ones_still_tried():
    sink = _Recording(fail_on=1)
    sealer = BackgroundSealer(lambda: sink)
    for k in range(3):
        sealer.write(k)
    with pytest.raises(OSError, match="disk full at 1"):
        sealer.drain()
    assert sink.calls[:2] == [("write", 0), ("write", 2)]
    assert sink.calls[-1] == ("close", None)
    with pytest.raises(ValueError, match="max_pending"):
        BackgroundSealer(_Recording, max_pending=0)

    def locked():
        raise OSError("the vault is open for writing by another process")

    with pytest.raises(OSError, match="another process"):  # the writer's failure to open, raised here
        BackgroundSealer(locked)


def test_a_camera_seals_the_same_tracks_in_its_writer_thread_as_on_its_pipeline(videos, authority, keys, tmp_path):
    """Every frame of the file, unpaced, on a fixed schedule (the load governor reads the clock): both
    ways seal the same tracks, each counted and on disk,
    from the writer thread (``sealer:NAME``) or the camera's own (``camera:NAME``)."""
    sealed = {}
    for background in (True, False):
        name = "bg" if background else "fg"
        got = sealed[background] = []
        config = serve_config(authority, {name: arcade_camera(videos, tmp_path / name, keys(name), loop=False,
                                                              realtime=False, live=False, coarsen_detection=False,
                                                              seal_in_background=background)})
        camera = Camera(config.cameras[name], on_sealed=lambda cam, result, record, got=got: got.append(
            (threading.current_thread().name, int(result.track_id), int(result.first_frame), int(result.last_frame))))
        camera.start()
        assert camera.join(timeout=300)
        assert camera.state == "ended"
        records = len(list((tmp_path / name / "records").glob("*.fsr")))
        assert camera.sealed == len(got) == records > 0
        assert {thread for thread, *_ in got} == {f"sealer:{name}" if background else f"camera:{name}"}
    assert sorted(t[1:] for t in sealed[True]) == sorted(t[1:] for t in sealed[False])


# -- a wider queue while the tracks close at a break ---------------------------------------------
@pytest.mark.parametrize("wide", [12, 0])
def test_a_break_widens_the_source_queue_while_the_tracks_close_then_narrows_it(videos, authority, keys, tmp_path,
                                                                               wide):
    # a looping file starts a new epoch at each pass: its open tracks are closed there (a break)
    config = serve_config(authority, {"a": arcade_camera(videos, tmp_path / "a", keys("a"), loop=True, realtime=False,
                                                         live=False, flush_buffer_frames=wide)})
    camera = Camera(config.cameras["a"])
    spans = []  # the governor's queue span right after each widening
    widen = camera._widen_buffer

    def widening():
        widen()
        spans.append(camera.governor.capacity)

    camera._widen_buffer = widening
    camera.start()
    try:
        # the arcade video has 105 frames: past the first break, and more than 12 frames after it
        assert wait_for(lambda: camera.flushed_on_gap > 0 and camera.processed >= 105 + 30, timeout=300)
        widened, buffer, span = camera.buffer_widened, camera.source.buffer_frames, camera.governor.capacity
    finally:
        assert camera.stop(timeout=120)
    assert widened >= 1 if wide == 12 else widened == 0
    # while widened, the load governor measures waits against the wider queue (a break's backlog
    # is a burst, not an overload); both back to buffer_frames after
    assert set(spans) == ({12} if wide == 12 else {4})
    assert buffer == span == 4
