"""A camera's unsealed closed tracks are bounded by their bytes, not only by their count (ops22).

ops21 held at most 128 closed tracks whose seal failed per camera: 128 crops of faces filling a 4K
frame (some MB each), or results with long clips, held hundreds of MB per camera while a disk was
full. Now their real ``nbytes`` (crop, clip frames, per-frame arrays) are summed and bounded by the
camera's ``held_max_bytes``; what falls out is counted and logged as lost, as with the count.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest

from facesel.serve.camera import Camera
from facesel.serve.config import CameraConfig, parse_config
from facesel.serve.held_results import HELD_MAX_BYTES, HeldResults, result_nbytes
from facesel.types import Snapshot, TrackResult
from facesel.vault.errors import VaultWriteError
from test_serve import authority, camera, config_dict, keys, videos  # noqa: F401 - module fixtures


def _result(track_id: int, side: int, clip_frames: int = 0, observations: int = 10) -> TrackResult:
    """A closed track whose best crop is ``side`` x ``side`` BGR (``3 * side**2`` bytes) with
    ``clip_frames`` clip frames of the same size."""
    crop = np.zeros((side, side, 3), np.uint8)
    best = Snapshot(crop=crop, box=np.zeros(4, np.float32), landmarks=np.zeros((5, 2), np.float32), quality=1.0,
                    frame_index=0, timestamp=0.0, track_id=track_id,
                    clip=[crop.copy() for _ in range(clip_frames)], clip_frame_indices=list(range(clip_frames)))
    return TrackResult(track_id=track_id, first_frame=0, last_frame=observations - 1, first_timestamp=0.0,
                       last_timestamp=1.0, best=best, qualities=np.ones(observations, np.float64),
                       frame_indices=np.arange(observations, dtype=np.int64))


def test_a_result_counts_its_crop_clip_and_per_frame_arrays():
    result = _result(1, 100, clip_frames=4, observations=10)
    # 5 crops of 100 x 100 x 3, box 16, landmarks 40, qualities and indices 80 each
    assert result_nbytes(result) == 5 * 30000 + 16 + 40 + 80 + 80


def test_the_oldest_fall_out_when_the_bytes_are_over_the_bound_and_are_counted_lost():
    one = result_nbytes(_result(0, 200))  # 120,216 bytes
    held = HeldResults(128, max_bytes=3 * one)
    results = [_result(i, 200) for i in range(5)]
    dropped = [held.hold(r) for r in results]
    assert dropped == [0, 0, 0, 1, 1]  # on main: only the count bound, nothing dropped below 128
    assert held.lost == 2 and len(held) == 3 and held.nbytes == 3 * one
    assert [r.track_id for r in held.take()] == [2, 3, 4] and held.nbytes == 0


def test_a_result_alone_over_the_bound_is_lost_at_once_and_the_count_bound_still_holds():
    held = HeldResults(2, max_bytes=50_000)
    assert held.hold(_result(1, 50)) == 0
    assert held.hold(_result(2, 200)) == 2  # 120 KB alone: everything before it and itself go
    assert len(held) == 0 and held.lost == 2 and held.nbytes == 0
    for i in range(3):
        held.hold(_result(10 + i, 10))
    assert len(held) == 2 and held.lost == 3  # the count bound as before


@pytest.mark.parametrize("value", [0, -1, 1024, 1.5e8, True, "64MiB", 2 ** 40 * 1000])
def test_a_bad_held_max_bytes_is_refused_naming_key_and_value(videos, authority, keys, tmp_path, value):
    door = camera(videos / "intel_head_pose_female.gif", tmp_path / "v", keys("door"), held_max_bytes=value)
    with pytest.raises(ValueError) as err:
        parse_config(config_dict(authority, {"door": door}))
    assert "cameras.door.held_max_bytes must be a whole number of bytes from 1048576 (1 MiB)" in str(err.value)
    assert f"got {value!r}" in str(err.value)


def test_held_max_bytes_defaults_to_64_mib_and_takes_a_value(videos, authority, keys, tmp_path):
    door = camera(videos / "intel_head_pose_female.gif", tmp_path / "v", keys("door"))
    assert parse_config(config_dict(authority, {"door": door})).cameras["door"].held_max_bytes == HELD_MAX_BYTES
    assert HELD_MAX_BYTES == 64 * 1024 * 1024
    door["held_max_bytes"] = 2 * 1024 * 1024
    assert parse_config(config_dict(authority, {"door": door})).cameras["door"].held_max_bytes == 2 * 1024 * 1024


def test_a_camera_holds_by_its_configured_bytes_and_logs_what_falls_out(videos, authority, keys, tmp_path, caplog):
    door = camera(videos / "intel_head_pose_female.gif", tmp_path / "v", keys("door"), held_max_bytes=1024 * 1024)
    config: CameraConfig = parse_config(config_dict(authority, {"door": door})).cameras["door"]
    cam = Camera(config)  # not started: the sink's failure hook is what a failing seal calls
    error = VaultWriteError("could not store record x: No space left on device; nothing was stored")
    big = [_result(i, 400) for i in range(3)]  # 480 KB each: two fit in 1 MiB, the third pushes one out
    with caplog.at_level(logging.ERROR, logger="facesel.serve"):
        for result in big:
            cam._seal_failed(result, error)
    assert len(cam.held) == 2 and cam.tracks_lost == 1 and cam.counters()["tracks_held"] == 2
    said = [r.getMessage() for r in caplog.records if "closed tracks lost" in r.getMessage()]
    assert said == ["camera door: 1 closed tracks lost: more than 128 wait for a seal, or they hold more than "
                    "1048576 bytes (held_max_bytes) (VaultWriteError: could not store record x: No space left on "
                    "device; nothing was stored)"], said
