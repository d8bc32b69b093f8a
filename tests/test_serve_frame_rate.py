"""A ``facesel serve`` camera holds the tracker's frame-counted limits to their seconds at its
stream's frame rate (facesel.frame_rate), learned from the source once it has connected.

The camera builds its pipeline before the source has said its rate; on the first frame, before
the tracker sees it, the pipeline is told the rate (``Selector.hold_limits_at``). Below 25 fps
``max_age`` and ``min_hits`` are then the held counts; at 25 fps and above they stay the config's.
Real clips of the shared data, decoded as the camera would: a 6 fps one and two at 25 and 30 fps.
"""

from __future__ import annotations

import pytest
from facesel.frame_rate import held_in_seconds
from facesel.serve.camera import Camera
from facesel.serve.pipeline_adapter import pipeline_config
from test_serve import authority, keys, videos  # noqa: F401 - module fixtures
from test_serve_capacity import serve_config
from test_sources import wait_for

CLIPS = [  # (clip under videos/more, its frame rate in the manifest, the tracker's max_age and min_hits there)
    ("mmaction2__demo_demo_spatiotemporal_det.mp4", 6.0, {"max_age": 4, "min_hits": 2}),  # held (sparse floor 4)
    ("LivePortrait__assets_examples_driving_d11.mp4", 25.0, {"max_age": 10, "min_hits": 3}),  # unchanged
    ("LivePortrait__assets_examples_driving_d18.mp4", 30.0, {"max_age": 10, "min_hits": 3}),  # unchanged
]


@pytest.mark.parametrize("clip, fps, limits", CLIPS, ids=[f"{fps:g}fps" for _, fps, _ in CLIPS])
def test_a_file_camera_holds_the_tracker_limits_at_its_frame_rate(videos, authority, keys, tmp_path, clip, fps,
                                                                  limits):
    table = {"source": str(videos / "more" / clip), "vault": str(tmp_path / "vault"), "camera_key": str(keys("door")),
             "loop": True, "realtime": False, "pipeline": {"scorer": "laplacian"}}
    config = serve_config(authority, {"door": table}).cameras["door"]
    built = pipeline_config(config.settings)
    assert (built.fps, built.max_age, built.min_hits) == (0.0, 10, 3)  # the camera's config knows no rate
    held = held_in_seconds(built, fps)
    assert {"max_age": held.max_age, "min_hits": held.min_hits} == limits
    camera = Camera(config).start()
    seen = []  # (the source's rate, the tracker's limits) of a pipeline that has processed frames
    try:
        def running():
            source, adapter = camera.source, camera.adapter
            if camera.processed < 1 or source is None or adapter is None:
                return False
            seen.append((source.stats.fps, adapter.selector.track_limits))
            return True

        assert wait_for(running, timeout=120), camera.health()
    finally:
        assert camera.stop(timeout=60)
    rate, tracked = seen[-1]
    assert rate == pytest.approx(fps, rel=1e-3)
    assert tracked == limits
    assert camera.pipeline_restarts == 0
