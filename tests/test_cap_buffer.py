"""A deeper source queue while the load governor holds a camera at its cap (``cap_buffer_frames``,
issue 27, session 15).

The camera's own hook (:meth:`Camera._received`) is driven frame by frame with a real
:class:`ScheduleGovernor` and a stand-in source that has only what the hook reads (its queue depth,
what waits in it, its frame rate): the test decides each frame's wait, so the governor's steps are
counted, not timed. A frame whose ``arrived`` is None waited 0 s (the hook's own rule); an
overloaded one arrived 10 s before it was taken (the governor's wait share saturates).
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from facesel.detect.schedule import DetectionSchedule
from facesel.serve.camera import Camera
from facesel.serve.scheduler import ScheduleGovernor
from test_serve import authority, camera, keys  # noqa: F401 - module fixtures
from test_serve_capacity import serve_config


class _Source:
    """What Camera._received and the queue-depth rule read of a source."""

    def __init__(self, buffer_frames: int):
        self.buffer_frames = buffer_frames
        self.pending = 0
        self.stats = SimpleNamespace(fps=25.0, frames_dropped=0)


def _camera(authority, keys, tmp_path, **extra) -> Camera:  # noqa: F811 - fixtures passed in
    table = camera("rtsp://127.0.0.1:9/none", tmp_path / "vault", keys("a"),
                   pipeline={"scorer": "laplacian", "detect_every": 4}, **extra)
    cam = Camera(serve_config(authority, {"a": table}).cameras["a"])
    cam.source = _Source(cam.config.buffer_frames)
    # steps 4 -> 8 -> 16 (no tiers: the stage is the pipeline's, not built here), 3 calm frames a refinement
    cam.governor = ScheduleGovernor(DetectionSchedule(4), base=4, cap=16, calm_frames=3, refine_backoff=1,
                                    capacity=cam.config.buffer_frames)
    return cam


def _frames(cam: Camera, count: int, overloaded: bool, start: int) -> list[tuple[int, int]]:
    """Hand ``count`` frames to the camera's hook; (detect_every, queue depth) after each."""
    seen = []
    for k in range(count):
        arrived = time.monotonic() - 10.0 if overloaded else None
        cam._received(SimpleNamespace(image=None, arrived=arrived, sequence=start + k))
        seen.append((cam.governor.every, cam.source.buffer_frames))
    return seen


def test_the_queue_deepens_only_at_the_cap_and_narrows_when_the_backlog_allows(authority, keys, tmp_path):  # noqa: F811
    cam = _camera(authority, keys, tmp_path, cap_buffer_frames=12)
    climbing = _frames(cam, 30, overloaded=True, start=0)
    assert cam.governor.at_cap and cam.governor.coarsened == 2  # 4 -> 8 -> 16
    # 4 frames while the governor could still coarsen, 12 from the frame that reached the cap on
    assert all(depth == (12 if every == 16 else 4) for every, depth in climbing)
    assert {every for every, _ in climbing} == {4, 8, 16}
    assert cam.buffer_deepened == 1  # once, not on every frame at the cap

    # the load eases but 5 frames still wait: the governor steps finer, the queue stays deep
    cam.source.pending = 5
    easing = _frames(cam, 30, overloaded=False, start=30)  # the smoothed wait falls under low, then 3 calm frames
    assert cam.governor.refined >= 1 and not cam.governor.at_cap
    assert all(depth == 12 for _, depth in easing)
    # the backlog is under buffer_frames: back to 4 on the next frame (nothing waiting is pushed out)
    cam.source.pending = 3
    assert _frames(cam, 1, overloaded=False, start=60)[-1][1] == 4
    # the governor's span stayed buffer_frames throughout: its steps judge the load as without the setting
    assert cam.governor.capacity == 4


@pytest.mark.parametrize("deep", [0, 4, 3])
def test_off_or_not_deeper_than_buffer_frames_the_queue_never_changes(authority, keys, tmp_path, deep):  # noqa: F811
    cam = _camera(authority, keys, tmp_path, cap_buffer_frames=deep)
    seen = _frames(cam, 30, overloaded=True, start=0)
    assert cam.governor.at_cap
    assert {depth for _, depth in seen} == {4} and cam.buffer_deepened == 0


def test_the_setting_is_checked_and_off_by_default(authority, keys, tmp_path):  # noqa: F811
    assert _camera(authority, keys, tmp_path).config.cap_buffer_frames == 0
    for bad in (-1, True, "8", 2.5):
        with pytest.raises(ValueError, match=r"cap_buffer_frames.*" + repr(bad).replace(".", r"\.")):
            _camera(authority, keys, tmp_path / str(bad), cap_buffer_frames=bad)
