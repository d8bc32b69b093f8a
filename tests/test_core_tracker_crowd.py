"""The tracker at crowd scale: the per-component solver against the dense one, the bound on open
tracks and its eviction order, and the new settings' validation."""

from __future__ import annotations

import facesel
import numpy as np
import pytest
from facesel import _core
from scipy.optimize import linear_sum_assignment

EMPTY = np.zeros((0, 4), np.float32)


def square(cx: float, cy: float, size: float) -> np.ndarray:
    return np.array([cx - size / 2, cy - size / 2, cx + size / 2, cy + size / 2], np.float32)


def random_gated_costs(rng: np.random.Generator, rows: int, cols: int, density: float, tied: bool) -> np.ndarray:
    """(rows, cols) float64 with +inf for the infeasible pairs; tied=True draws costs from {0, 0.5, 1}."""
    cost = rng.choice([0.0, 0.5, 1.0], (rows, cols)) if tied else rng.random((rows, cols)) * 3.0
    cost[rng.random((rows, cols)) >= density] = np.inf
    return cost


def objective(cost: np.ndarray, col_of_row: np.ndarray) -> tuple[int, float]:
    """(pairs, total cost) of an assignment, after checking it is one-to-one over feasible pairs."""
    rows = np.flatnonzero(col_of_row >= 0)
    cols = col_of_row[rows]
    assert len(set(cols.tolist())) == len(cols), "a column was given twice"
    assert np.all(np.isfinite(cost[rows, cols])), "an infeasible pair was assigned"
    return len(rows), float(cost[rows, cols].sum())


def scipy_objective(cost: np.ndarray) -> tuple[int, float]:
    """Most feasible pairs, then least cost, through SciPy on a big-M matrix."""
    if cost.size == 0:
        return 0, 0.0
    finite = np.isfinite(cost)
    big = (min(cost.shape) + 1) * ((cost[finite].max() if finite.any() else 0.0) + 1.0)
    r, c = linear_sum_assignment(np.where(finite, cost, big))
    keep = finite[r, c]
    return int(keep.sum()), float(cost[r[keep], c[keep]].sum())


@pytest.mark.parametrize("tied", [False, True], ids=["random", "tied"])
@pytest.mark.parametrize("shape, density", [((8, 8), 0.2), ((30, 12), 0.1), ((12, 30), 0.1), ((60, 60), 0.03),
                                            ((5, 9), 1.0), ((0, 4), 0.5), ((4, 0), 0.5), ((25, 25), 0.0)])
def test_per_component_solver_has_the_dense_optimum(shape, density, tied):
    rng = np.random.default_rng(shape[0] * 100 + shape[1] + int(tied))
    for _ in range(20):
        cost = random_gated_costs(rng, *shape, density, tied)
        sparse = _core._sparse_assignment(cost)
        dense = _core._dense_gated_assignment(cost)
        assert sparse.shape == dense.shape == (shape[0],)
        got_pairs, got_cost = objective(cost, sparse)
        dense_pairs, dense_cost = objective(cost, dense)
        ref_pairs, ref_cost = scipy_objective(cost)
        assert got_pairs == dense_pairs == ref_pairs
        assert got_cost == pytest.approx(ref_cost, abs=1e-9) and dense_cost == pytest.approx(ref_cost, abs=1e-9)


def test_gated_solver_rejects_bad_costs():
    with pytest.raises(ValueError, match=r"cost must be in \[0, 1e100\] or \+inf .* at \(0, 1\)"):
        _core._sparse_assignment(np.array([[1.0, -1.0]]))
    with pytest.raises(ValueError, match="cost must be in"):
        _core._sparse_assignment(np.array([[np.nan]]))


def churning_crowd(rng: np.random.Generator, frames: int, faces: int, churn: float) -> list[np.ndarray]:
    """Faces drifting on a 1280 x 720 frame; each frame a fraction `churn` is replaced by new faces."""
    pos = rng.uniform([0, 0], [1280, 720], (faces, 2))
    vel = rng.normal(0, 2, (faces, 2))
    size = rng.uniform(20, 60, faces)
    out = []
    for _ in range(frames):
        fresh = rng.random(faces) < churn
        pos[fresh] = rng.uniform([0, 0], [1280, 720], (fresh.sum(), 2))
        pos += vel + rng.normal(0, 1, pos.shape)
        boxes = np.column_stack([pos - size[:, None] / 2, pos + size[:, None] / 2]).astype(np.float32)
        out.append(boxes[rng.permutation(faces)[: rng.integers(faces // 2, faces + 1)]])
    return out


@pytest.mark.parametrize("metric", ["euclidean", "iou"])
@pytest.mark.parametrize("churn", [0.05, 1.0])
def test_components_and_dense_association_give_the_same_tracks(metric, churn):
    """Random crowds with churn: both solvers reach the same optimum, and with continuous random
    positions the optimum is unique, so every frame's ids and every end must agree."""
    frames = churning_crowd(np.random.default_rng(int(churn * 100)), 40, 60, churn)
    fast = facesel.Tracker(metric=metric, min_hits=2)
    slow = facesel.Tracker(metric=metric, min_hits=2, association="dense")
    for k, boxes in enumerate(frames):
        a, b = fast.update(boxes), slow.update(boxes)
        assert np.array_equal(a.track_ids, b.track_ids), f"frame {k}"
        assert np.array_equal(a.confirmed, b.confirmed), f"frame {k}"
        assert np.array_equal(np.sort(a.closed), np.sort(b.closed))
        assert np.array_equal(np.sort(a.dropped), np.sort(b.dropped))
    assert sorted(fast.open_track_ids.tolist()) == sorted(slow.open_track_ids.tolist())


def test_open_tracks_never_exceed_max_tracks_and_every_end_is_reported():
    frames = churning_crowd(np.random.default_rng(7), 30, 100, 1.0)
    tracker = facesel.Tracker(min_hits=1, max_age=10, max_tracks=250)
    opened, ended = set(), set()
    for boxes in frames:
        upd = tracker.update(boxes)
        opened |= set(upd.track_ids.tolist())
        ends = set(upd.closed.tolist()) | set(upd.dropped.tolist())
        assert set(upd.evicted.tolist()) <= ends
        ended |= ends
        assert len(tracker) <= 250
    ended |= set(tracker.flush().closed.tolist())
    assert ended == opened, "a track vanished without being closed or dropped"


def test_eviction_order_unseen_longest_then_tentative_then_fewer_hits_then_newest():
    tracker = facesel.Tracker(min_hits=2, max_age=10, max_tracks=3, predict_motion=False)
    a, b, c = square(100, 100, 20), square(300, 100, 20), square(500, 100, 20)
    ids = tracker.update(np.stack([a, b, c])).track_ids  # three tentative tracks, hits = 1
    tracker.update(np.stack([a, b]))  # a, b confirmed (hits 2); c unseen once
    upd = tracker.update(np.stack([a, square(700, 100, 20)]))  # a new face: 4 tracks > 3
    # Unseen: a 0, new 0, b 1, c 2 -> c (unseen longest, tentative) ends, in `dropped`.
    assert upd.evicted.tolist() == [ids[2]] and upd.dropped.tolist() == [ids[2]] and upd.closed.size == 0
    upd = tracker.update(np.stack([a, square(900, 100, 20)]))
    # Now b is unseen 2 and confirmed, the 700 face unseen 1 and tentative: b is the longer unseen.
    assert upd.evicted.tolist() == [ids[1]] and upd.closed.tolist() == [ids[1]]
    # Same unseen count: the tentative goes before the confirmed (with one min_hits for all tracks
    # this agrees with "fewer hits", since confirmed means hits >= min_hits).
    tracker = facesel.Tracker(min_hits=2, max_tracks=2, predict_motion=False)
    tracker.update(a[None])
    both = tracker.update(np.stack([a, b]))  # a confirmed (2 hits), b new and tentative
    upd = tracker.update(c[None])  # a and b unseen once, c new: 3 tracks > 2
    assert upd.evicted.tolist() == [both.track_ids[1]] and upd.dropped.tolist() == [both.track_ids[1]]
    assert sorted(tracker.open_track_ids.tolist()) == sorted([both.track_ids[0], upd.track_ids[0]])


def test_eviction_ties_fewer_hits_then_newest_id():
    a, b, c = square(100, 100, 20), square(300, 100, 20), square(500, 100, 20)
    tracker = facesel.Tracker(min_hits=5, max_tracks=2, predict_motion=False)
    first = tracker.update(np.stack([a, b])).track_ids
    tracker.update(np.stack([a, b]))
    tracker.update(np.stack([a, b, c]))  # a, b: hits 3; c: hits 1, all seen now, all tentative
    # c is the new track: the same unseen count and confirmation, fewer hits -> it goes at once.
    assert len(tracker) == 2 and sorted(tracker.open_track_ids.tolist()) == sorted(first.tolist())
    tracker = facesel.Tracker(min_hits=5, max_tracks=1, predict_motion=False)
    upd = tracker.update(np.stack([a, b]))  # two new tracks, all else equal: the newest id goes
    assert upd.evicted.tolist() == [upd.track_ids.max()] and tracker.open_track_ids.tolist() == [upd.track_ids.min()]


def test_more_detections_than_max_tracks_still_get_ids():
    boxes = np.stack([square(50 + 60 * k, 100, 20) for k in range(10)])
    tracker = facesel.Tracker(min_hits=1, max_tracks=4)
    upd = tracker.update(boxes)
    assert len(set(upd.track_ids.tolist())) == 10 and len(tracker) == 4
    assert len(upd.evicted) == 6 and set(upd.evicted.tolist()) == set(upd.closed.tolist())


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"max_age": 10001}, r"max_age must be in \[0, 10000\], got 10001"),
        ({"max_tracks": 0}, r"max_tracks must be in \[1, 1048576\], got 0"),
        ({"max_tracks": 2**21}, r"max_tracks must be in \[1, 1048576\], got 2097152"),
        ({"association": "hungarian"}, "association must be 'components' or 'dense', got 'hungarian'"),
    ],
)
def test_new_settings_are_validated_naming_the_value(kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        facesel.Tracker(**kwargs)
    with pytest.raises(TypeError, match="max_tracks must be an int"):
        facesel.Tracker(max_tracks=2.5)
    with pytest.raises(TypeError, match="association must be a str"):
        facesel.Tracker(association=None)


@pytest.mark.parametrize("association", ["components", "dense"])
def test_pairs_at_the_edge_of_the_gate_are_found(association):
    """A small track and a large detection: the gate is 0.5 * sqrt(20 * 80) = 20 px of centre
    distance, the widest the candidate search must reach; just inside matches, just outside not."""
    for dx, same in ((19.9, True), (20.1, False)):
        tracker = facesel.Tracker(max_distance=0.5, predict_motion=False, association=association)
        first = tracker.update(square(500, 500, 20)[None]).track_ids[0]
        boxes = np.stack([square(900, 900, 30), square(500 + dx, 500, 80)])
        got = tracker.update(boxes).track_ids[1]
        assert (got == first) == same, f"dx={dx}"
