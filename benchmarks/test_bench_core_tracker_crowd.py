"""Tracker.update in crowds: 10, 50 and 200 faces, steady and with churn, per-component solver
against the former dense solver (association="dense") in the same run.

    python -m pytest benchmarks/test_bench_core_tracker_crowd.py -q -s

"steady": the same faces drift from frame to frame. "churn": every frame, every face is replaced
by a new one somewhere else (the worst case: with max_age = 10 the open tracks grow to about
faces x 11). Times are CPU time per update (time.process_time), best of the timed rounds' means.
"""

from __future__ import annotations

import time

import facesel
import numpy as np
import pytest

WIDTH, HEIGHT = 1920, 1080
WARM_UP, TIMED = 15, 60  # warm-up frames fill the tracker to its steady size under churn


def crowd_frames(faces: int, churn: bool, frames: int, seed: int = 0, area=(WIDTH, HEIGHT)) -> list[np.ndarray]:
    """(faces, 4) float32 boxes per frame, 24 to 64 px faces spread over `area` (width, height)."""
    rng = np.random.default_rng(seed)
    pos = rng.uniform([0, 0], area, (faces, 2))
    vel = rng.normal(0, 1.5, (faces, 2))
    size = rng.uniform(24, 64, faces)
    out = []
    for _ in range(frames):
        if churn:
            pos = rng.uniform([0, 0], area, (faces, 2))
        else:
            pos = pos + vel + rng.normal(0, 0.5, pos.shape)
        half = size[:, None] / 2
        out.append(np.column_stack([pos - half, pos + half]).astype(np.float32))
    return out


def mean_update_seconds(association: str, frames: list[np.ndarray], rounds: int = 3) -> tuple[float, int]:
    """Best (over rounds) mean CPU seconds per timed update, and the open tracks at the end."""
    best, size = float("inf"), 0
    for _ in range(rounds):
        tracker = facesel.Tracker(association=association)
        for boxes in frames[:WARM_UP]:
            tracker.update(boxes)
        start = time.process_time()
        for boxes in frames[WARM_UP:]:
            tracker.update(boxes)
        best = min(best, (time.process_time() - start) / (len(frames) - WARM_UP))
        size = len(tracker)
    return best, size


@pytest.mark.parametrize("churn", [False, True], ids=["steady", "churn"])
@pytest.mark.parametrize("faces", [10, 50, 200])
def test_crowd_update(faces, churn, record_property):
    frames = crowd_frames(faces, churn, WARM_UP + TIMED)
    fast, open_tracks = mean_update_seconds("components", frames)
    dense, _ = mean_update_seconds("dense", frames, rounds=1 if churn and faces == 200 else 3)
    record_property("components_ms", fast * 1e3)
    record_property("dense_ms", dense * 1e3)
    print(
        f"\n{faces:>3} faces {'churn ' if churn else 'steady'}: open tracks {open_tracks:>5}, "
        f"components {fast * 1e3:7.3f} ms/update, dense {dense * 1e3:8.3f} ms/update, ratio {dense / fast:6.1f}x"
    )
    # Both solvers see the same frames and must reach the same tracks.
    a, b = facesel.Tracker(), facesel.Tracker(association="dense")
    for boxes in frames[:20]:
        assert np.array_equal(a.update(boxes).track_ids, b.update(boxes).track_ids)
    if churn:
        # Most new faces fall outside every stale track's gate, so the tracks pile up towards faces x 11.
        assert open_tracks > 5 * faces, f"churn left only {open_tracks} open tracks"


def test_packed_crowd_with_churn(record_property):
    """200 faces packed into 640 x 360 px (overlapping boxes, so the feasible pairs form large
    connected groups): the per-component solver must still not fall back to the dense cost."""
    frames = crowd_frames(200, True, WARM_UP + TIMED, seed=1, area=(640, 360))
    fast, open_tracks = mean_update_seconds("components", frames)
    dense, _ = mean_update_seconds("dense", frames, rounds=1)
    record_property("components_ms", fast * 1e3)
    print(f"\n200 faces packed churn: open tracks {open_tracks:>5}, components {fast * 1e3:7.3f} ms/update, "
          f"dense {dense * 1e3:8.3f} ms/update, ratio {dense / fast:6.1f}x")
    a, b = facesel.Tracker(), facesel.Tracker(association="dense")
    for boxes in frames[:20]:
        assert np.array_equal(a.update(boxes).track_ids, b.update(boxes).track_ids)
