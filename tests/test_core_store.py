"""facesel.BestCropStore: top K, clip around the best, handle bookkeeping, bounded memory."""

from __future__ import annotations

import facesel
import numpy as np
import pytest


def reference(observations: list[tuple[int, float, int]], top_k: int, window: int):
    """Keeps everything, then answers: best (earliest on ties), top K, clip."""
    order = sorted(observations, key=lambda o: (-o[1], o[0]))
    best = order[0]
    clip = [o for o in observations if abs(o[0] - best[0]) <= window]
    return best, order[:top_k], clip


def as_tuples(obs: list[facesel.Observation]) -> list[tuple[int, float, int]]:
    return [(o.frame_index, o.quality, o.handle) for o in obs]


@pytest.mark.parametrize("top_k, window", [(1, 0), (3, 2), (5, 7), (1, 4)])
@pytest.mark.parametrize("seed", range(4))
def test_matches_keep_everything_reference(top_k, window, seed):
    rng = np.random.default_rng(seed)
    store = facesel.BestCropStore(top_k=top_k, clip_window=window)
    frames = np.cumsum(rng.integers(1, 4, size=60))  # frames with gaps, as when a face is missed
    # Few distinct values, so that ties occur and the earliest-first rule is exercised.
    qualities = rng.integers(0, 12, size=60).astype(float)
    observations, released = [], []
    for i, (frame, quality) in enumerate(zip(frames.tolist(), qualities.tolist())):
        handle = 1000 + i
        observations.append((frame, quality, handle))
        released.extend(store.push(7, frame, quality, handle).tolist())
        assert store.best(7) == facesel.Observation(*reference(observations, top_k, window)[0])
    closed = store.close(7)
    best, top, clip = reference(observations, top_k, window)
    assert (closed.best.frame_index, closed.best.quality, closed.best.handle) == best
    assert as_tuples(closed.top) == top
    assert as_tuples(closed.clip) == clip
    # Every handle comes back exactly once: either released early or at close.
    assert sorted(released + closed.released.tolist()) == [o[2] for o in observations]
    needed = {o[2] for o in [best, *top, *clip]}
    assert not needed & set(released), "a handle the result needs was released early"
    assert len(store) == 0 and store.held_handles == 0


@pytest.mark.parametrize("top_k", [1, 3])
@pytest.mark.parametrize("seed", range(3))
def test_admits_says_whether_a_push_would_hold_the_observation(top_k, seed):
    """``admits`` is true exactly when the pushed observation joins the top K (ties, which a later
    observation loses, included): without a clip one it refuses is never part of a result, so
    the Selector skips aligning its crop."""
    rng = np.random.default_rng(seed)
    store = facesel.BestCropStore(top_k=top_k, clip_window=0)
    assert store.admits(4, -1e300)  # a track not open yet admits anything
    answers, observations = [], []
    for i, quality in enumerate(rng.integers(0, 6, size=50).astype(float).tolist()):
        admitted = store.admits(4, quality)
        answers.append(admitted)
        observations.append((i, quality, 1000 + i))
        store.push(4, i, quality, 1000 + i)
        assert admitted == (observations[-1] in reference(observations, top_k, 0)[1]), (i, quality)
    assert any(answers) and not all(answers)  # both answers were exercised
    with pytest.raises(ValueError, match="quality must be finite"):
        store.admits(4, float("nan"))
    with pytest.raises(TypeError, match="track_id must be an int"):
        store.admits("4", 1.0)


@pytest.mark.parametrize("increasing", [False, True], ids=["random", "ever-better"])
def test_memory_is_bounded_for_a_100k_observation_track(increasing):
    top_k, window = 4, 5
    store = facesel.BestCropStore(top_k=top_k, clip_window=window)
    rng = np.random.default_rng(3)
    qualities = np.arange(100_000, dtype=float) if increasing else rng.random(100_000)
    peak, released = 0, 0
    for frame, quality in enumerate(qualities.tolist()):
        released += len(store.push(1, frame, quality, frame))
        if frame % 97 == 0:
            peak = max(peak, store.held_handles)
    peak = max(peak, store.held_handles)
    assert peak <= top_k + 3 * window + 2
    closed = store.close(1)
    assert released + len(closed.released) == 100_000
    best = int(np.argmax(qualities))
    assert closed.best.frame_index == best
    assert [o.frame_index for o in closed.clip] == list(range(max(0, best - window), min(100_000, best + window + 1)))


def test_tracks_are_independent_and_discard_returns_all_handles():
    store = facesel.BestCropStore(top_k=2, clip_window=1)
    for frame in range(5):
        store.push(1, frame, float(frame), 100 + frame)
        store.push(2, frame, float(-frame), 200 + frame)
    assert len(store) == 2 and store.track_ids.tolist() == [1, 2] and 1 in store
    held_by_2 = store.held_handles - len(store.close(1).released)
    discarded = store.discard(2)
    assert discarded.dtype == np.int64 and len(discarded) == held_by_2
    assert set(discarded.tolist()) <= {200 + f for f in range(5)} and 200 in discarded.tolist()
    assert len(store) == 0 and store.held_handles == 0 and 2 not in store


def test_close_result_types():
    store = facesel.BestCropStore(top_k=3, clip_window=2)
    store.push(5, 10, 0.5, 42)
    closed = store.close(5)
    assert closed.best == facesel.Observation(10, 0.5, 42)
    assert isinstance(closed.best.frame_index, int) and isinstance(closed.best.quality, float)
    assert closed.top == [closed.best] and closed.clip == [closed.best]
    assert closed.released.dtype == np.int64 and closed.released.tolist() == [42]


def test_errors_name_the_argument_and_change_nothing():
    store = facesel.BestCropStore(top_k=2, clip_window=1)
    store.push(1, 5, 1.0, 10)
    with pytest.raises(ValueError, match="frame_index must increase.*got 5"):
        store.push(1, 5, 2.0, 11)
    with pytest.raises(ValueError, match="handle 10 is already held"):
        store.push(2, 0, 2.0, 10)
    with pytest.raises(ValueError, match="quality must be finite"):
        store.push(1, 6, float("nan"), 12)
    with pytest.raises(ValueError, match="track_id 3 is not open"):
        store.close(3)
    with pytest.raises(ValueError, match="track_id 3 is not open"):
        store.discard(3)
    with pytest.raises(TypeError, match="frame_index must be an int"):
        store.push(1, 6.0, 1.0, 12)
    assert len(store) == 1 and store.held_handles == 1


@pytest.mark.parametrize("kwargs, needle", [({"top_k": 0}, "top_k must be >= 1, got 0"), ({"clip_window": -2}, "clip_window.*got -2")])
def test_bad_settings(kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        facesel.BestCropStore(**kwargs)
