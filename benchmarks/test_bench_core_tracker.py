"""Tracker.update with 20 faces per frame (a busy scene), and BestCropStore.push.

    python -m pytest benchmarks/test_bench_core_tracker.py -q
"""

from __future__ import annotations

import facesel
import numpy as np

FACES = 20


def moving_faces(frame: int) -> np.ndarray:
    """20 faces on a grid, each drifting in its own direction by 1 px per frame."""
    k = np.arange(FACES)
    cx = 100 + 150 * (k % 5) + np.cos(k) * frame
    cy = 100 + 150 * (k // 5) + np.sin(k) * frame
    size = 40 + 2 * (k % 7)
    return np.stack([cx - size / 2, cy - size / 2, cx + size / 2, cy + size / 2], axis=1).astype(np.float32)


def test_tracker_update_20_faces(benchmark):
    tracker = facesel.Tracker()
    first = tracker.update(moving_faces(0)).track_ids
    for frame in range(1, 5):  # past min_hits, so that the timed updates are the steady state
        tracker.update(moving_faces(frame))
    state = {"frame": 5}

    def step():
        upd = tracker.update(moving_faces(state["frame"]))
        state["frame"] += 1
        return upd

    upd = benchmark(step)
    assert np.array_equal(upd.track_ids, first), "ids changed for faces that only drift"
    assert upd.confirmed.all()


def test_store_push(benchmark):
    store = facesel.BestCropStore(top_k=3, clip_window=5)
    rng = np.random.default_rng(0)
    qualities = rng.random(1_000_000).tolist()
    state = {"i": 0}

    def push_one_frame_of_20_faces():
        i = state["i"]
        for face in range(FACES):
            store.push(face, i, qualities[(i * FACES + face) % len(qualities)], i * FACES + face)
        state["i"] += 1

    benchmark(push_one_frame_of_20_faces)
    assert len(store) == FACES
    assert store.held_handles <= FACES * (3 + 3 * 5 + 2)
