"""facesel.Tracker: the paper's association, one-to-one assignment, track life cycle."""

from __future__ import annotations

import facesel
import numpy as np
import pytest
from facesel import _core
from scipy.optimize import linear_sum_assignment

METRICS = ["euclidean", "iou"]


def xywh_to_xyxy(rect: np.ndarray) -> np.ndarray:
    rect = np.asarray(rect, dtype=np.float32)
    return np.concatenate([rect[:, :2], rect[:, :2] + rect[:, 2:]], axis=1)


def square(cx: float, cy: float, size: float) -> np.ndarray:
    return np.array([cx - size / 2, cy - size / 2, cx + size / 2, cy + size / 2], np.float32)


def run_frames(tracker: facesel.Tracker, frames: list[np.ndarray], rng: np.random.Generator | None = None):
    """Feeds each frame (rows in a shuffled order when rng is given); returns per-frame id arrays
    in the original row order and every update."""
    ids, updates = [], []
    for boxes in frames:
        order = rng.permutation(len(boxes)) if rng is not None else np.arange(len(boxes))
        upd = tracker.update(np.ascontiguousarray(boxes[order]))
        got = np.empty(len(boxes), np.int64)
        got[order] = upd.track_ids
        ids.append(got)
        updates.append(upd)
    return ids, updates


@pytest.fixture(scope="module")
def girl_boxes(shared_data) -> np.ndarray:
    rect = np.loadtxt(shared_data / "videos" / "otb_girl" / "groundtruth_rect.txt")
    assert rect.shape == (500, 4)
    return xywh_to_xyxy(rect)


@pytest.mark.parametrize("metric", METRICS)
def test_otb_girl_one_identity_with_jitter_and_dropped_frames(girl_boxes, metric):
    rng = np.random.default_rng(2)
    sizes = np.sqrt((girl_boxes[:, 2] - girl_boxes[:, 0]) * (girl_boxes[:, 3] - girl_boxes[:, 1]))
    # Detector-like jitter: each coordinate moves by ~4% of the face size.
    jittered = girl_boxes + rng.normal(0.0, 0.04, girl_boxes.shape).astype(np.float32) * sizes[:, None]
    keep = rng.random(len(jittered)) > 0.15  # ~15% of frames without a detection ...
    keep[200:206] = False  # ... and a 6-frame gap (occlusion), still within max_age = 10
    tracker = facesel.Tracker(metric=metric)
    seen = []
    for frame in range(len(jittered)):
        upd = tracker.update(jittered[frame : frame + 1] if keep[frame] else np.zeros((0, 4), np.float32))
        assert len(upd.closed) == 0 and len(upd.dropped) == 0, f"track ended at frame {frame}"
        seen.extend(upd.track_ids.tolist())
    assert len(seen) == keep.sum()
    assert set(seen) == {seen[0]}, f"identity split into tracks {sorted(set(seen))}"
    end = tracker.flush()
    assert end.closed.tolist() == [seen[0]] and end.dropped.size == 0
    assert len(tracker) == 0 and tracker.open_track_ids.size == 0


def crossing_frames(offset_y: float, steps: int = 40) -> list[np.ndarray]:
    """Two faces of different sizes walking towards each other, meeting half-way."""
    frames = []
    for t in range(steps):
        a = square(20 + 4.0 * t, 100, 40)
        b = square(176 - 4.0 * t, 100 + offset_y, 34)
        frames.append(np.stack([a, b]))
    return frames


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("offset_y", [0.0, 8.0], ids=["crossing", "passing"])
def test_crossing_and_passing_faces_keep_their_ids(metric, offset_y):
    ids, _ = run_frames(facesel.Tracker(metric=metric), crossing_frames(offset_y), np.random.default_rng(0))
    ids = np.stack(ids)
    assert np.all(ids[:, 0] == ids[0, 0]) and np.all(ids[:, 1] == ids[0, 1]), ids.T
    assert ids[0, 0] != ids[0, 1]


@pytest.mark.parametrize("metric", METRICS)
def test_diagonal_crossing_of_three_faces(metric):
    frames = []
    for t in range(50):
        frames.append(
            np.stack(
                [
                    square(20 + 3 * t, 20 + 3 * t, 36),  # top-left to bottom-right
                    square(170 - 3 * t, 20 + 3 * t, 30),  # top-right to bottom-left
                    square(95, 200 - 3 * t, 42),  # upwards through the same point
                ]
            )
        )
    ids, _ = run_frames(facesel.Tracker(metric=metric), frames, np.random.default_rng(1))
    ids = np.stack(ids)
    assert len(set(ids[0].tolist())) == 3
    assert np.all(ids == ids[0]), ids.T


def test_euclidean_gate_is_relative_to_box_size():
    for size in (20.0, 200.0):
        tracker = facesel.Tracker(max_distance=0.5, predict_motion=False)
        first = tracker.update(square(500, 500, size)[None]).track_ids[0]
        near = tracker.update(square(500 + 0.45 * size, 500, size)[None]).track_ids[0]
        far = tracker.update(square(500 + 0.45 * size + 0.55 * size, 500, size)[None]).track_ids[0]
        assert near == first, f"size {size}: a 0.45-size step must keep the track"
        assert far != first, f"size {size}: a 0.55-size step must open a new track"


def test_iou_gate():
    tracker = facesel.Tracker(metric="iou", min_iou=0.5, predict_motion=False)
    first = tracker.update(np.array([[0, 0, 10, 10]], np.float32)).track_ids[0]
    # IoU([0,10],[2,12]) = 80/120 = 0.67 -> same track; then [2,12] vs [6,16]: 24/176 = 0.14 -> new.
    assert tracker.update(np.array([[2, 0, 12, 10]], np.float32)).track_ids[0] == first
    assert tracker.update(np.array([[8, 0, 18, 10]], np.float32)).track_ids[0] != first


def test_life_cycle_confirm_close_drop_and_ids_never_reused():
    tracker = facesel.Tracker(min_hits=3, max_age=2, predict_motion=False)
    box = square(50, 50, 20)[None]
    empty = np.zeros((0, 4), np.float32)
    confirmed = [bool(tracker.update(box).confirmed[0]) for _ in range(4)]
    assert confirmed == [False, False, True, True]
    tid = tracker.open_track_ids[0]
    # Unseen for 1, 2 updates: still open; the 3rd unseen update (> max_age = 2) closes it.
    assert tracker.update(empty).closed.size == 0
    assert tracker.update(empty).closed.size == 0
    upd = tracker.update(empty)
    assert upd.closed.tolist() == [tid] and upd.dropped.size == 0 and len(tracker) == 0
    # A tentative track dies as `dropped`, not `closed`.
    tentative = tracker.update(box).track_ids[0]
    assert tentative > tid
    for _ in range(2):
        tracker.update(empty)
    upd = tracker.update(empty)
    assert upd.dropped.tolist() == [tentative] and upd.closed.size == 0
    # Flush: confirmed -> closed, tentative -> dropped; new ids keep counting afterwards.
    ids = [tracker.update(np.stack([square(50, 50, 20), square(300, 300, 20)])) for _ in range(3)]
    tracker.update(square(50, 50, 20)[None])
    late = tracker.update(square(600, 600, 20)[None]).track_ids[0]
    end = tracker.flush()
    assert sorted(end.closed.tolist()) == sorted(ids[0].track_ids.tolist())
    assert end.dropped.tolist() == [late]
    assert len(tracker) == 0
    assert tracker.update(box).track_ids[0] > late


def test_max_age_zero_closes_on_the_first_miss():
    tracker = facesel.Tracker(min_hits=1, max_age=0)
    tid = tracker.update(square(10, 10, 8)[None]).track_ids[0]
    assert tracker.update(np.zeros((0, 4), np.float32)).closed.tolist() == [tid]


def test_update_result_types_and_shapes():
    tracker = facesel.Tracker()
    upd = tracker.update(np.zeros((0, 4), np.float32))
    assert upd.track_ids.dtype == np.int64 and upd.track_ids.shape == (0,)
    upd = tracker.update(np.stack([square(10, 10, 8), square(100, 10, 8)]))
    assert upd.track_ids.dtype == np.int64 and upd.confirmed.dtype == np.bool_
    assert upd.closed.dtype == np.int64 and upd.dropped.dtype == np.int64
    assert len(set(upd.track_ids.tolist())) == 2
    assert sorted(tracker.open_track_ids.tolist()) == sorted(upd.track_ids.tolist())


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"metric": "cosine"}, "metric"),
        ({"max_distance": -0.25}, "max_distance"),
        ({"min_iou": 1.5}, "min_iou"),
        ({"min_hits": 0}, "min_hits"),
        ({"max_age": -3}, "max_age"),
    ],
)
def test_bad_settings_name_the_argument_and_value(kwargs, needle):
    with pytest.raises(ValueError, match=needle) as err:
        facesel.Tracker(**kwargs)
    assert str(next(iter(kwargs.values()))) in str(err.value)


def test_bad_boxes_leave_the_tracker_unchanged():
    tracker = facesel.Tracker(min_hits=1)
    tracker.update(square(10, 10, 8)[None])
    with pytest.raises(ValueError, match="boxes row 1"):
        tracker.update(np.array([[0, 0, 5, 5], [5, 5, 1, 9]], np.float32))
    with pytest.raises(ValueError, match=r"boxes must have shape \(N, 4\)"):
        tracker.update(np.zeros((2, 3), np.float32))
    assert len(tracker) == 1


@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (4, 7), (7, 4), (20, 20), (0, 5), (5, 0)])
def test_linear_assignment_is_optimal(shape):
    rng = np.random.default_rng(sum(shape))
    for _ in range(5):
        cost = rng.random(shape) * rng.choice([1.0, 100.0])
        got = _core._linear_assignment(cost)
        assert got.shape == (shape[0],)
        rows = np.flatnonzero(got >= 0)
        assert len(rows) == min(shape) and len(set(got[rows].tolist())) == len(rows)
        ref_rows, ref_cols = linear_sum_assignment(cost)
        assert cost[rows, got[rows]].sum() == pytest.approx(cost[ref_rows, ref_cols].sum(), rel=1e-12, abs=1e-12)


def test_linear_assignment_rejects_costs_it_cannot_solve():
    with pytest.raises(ValueError, match="cost must be finite with"):
        _core._linear_assignment(np.array([[1e200, -1e200], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="cost must hold finite values"):
        _core._linear_assignment(np.array([[np.nan]]))
