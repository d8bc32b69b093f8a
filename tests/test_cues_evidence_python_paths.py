"""The frame-level shortcuts of the switch cues and of the evidence book give, bit for bit, what
their numpy (or per-box) definitions give.

Issue 23 (speed): on a handful of boxes :func:`facesel.track_cues.crowded` and
:func:`facesel.select.evidence.shadowed_mask` compare the pairs in Python, and
:meth:`facesel.select.evidence.EvidenceBook.observe_frame` converts a frame's boxes once and
re-makes a track's path extent only when a centre reaches it. Any difference, even in the last
bit of a float, could move a decision, so equality is exact: on boxes that touch, repeat, have
no area or lie inverted, on equal scores, and (for the crowding test) on nan and infinite
coordinates."""

from __future__ import annotations

import numpy as np
import pytest

import facesel.select.evidence as evidence_module
import facesel.track_cues.crowding as cues_module
from facesel.select.evidence import EvidenceBook, TrackEvidence, shadowed_mask
from facesel.track_cues import box_jumps, crowded, size_jump, aspect_jump
from facesel.types import Detections


def _boxes(rng, n, grid: bool) -> np.ndarray:
    """(n, 4) float64 boxes of 0-60 pixels over a 300-pixel square, some inverted (negative
    size); on a 10-pixel grid when ``grid`` (edges that coincide exactly, repeated boxes)."""
    corner = rng.uniform(0, 300, (n, 2))
    boxes = np.concatenate([corner, corner + rng.uniform(-5, 60, (n, 2))], axis=1)
    return np.round(boxes / 10) * 10 if grid else boxes


def _numpy_path(module, monkeypatch):
    """The same module with its Python shortcut off (every frame takes the numpy path)."""
    monkeypatch.setattr(module, "_FEW", 0)


@pytest.mark.parametrize("grid", [False, True])
def test_crowding_in_python_equals_the_numpy_pairs(grid, monkeypatch):
    rng = np.random.default_rng(7 + grid)
    cases = []
    for k in range(400):
        boxes = _boxes(rng, int(rng.integers(0, cues_module._FEW + 1)), grid)
        if k % 4 == 0 and len(boxes):
            boxes[rng.integers(len(boxes)), rng.integers(4)] = rng.choice([np.nan, np.inf, -np.inf, -0.0])
        cases.append(boxes)
    with np.errstate(invalid="ignore", over="ignore"):
        core = [crowded(b) for b in cases]  # the C++ core's pairs (_core.crowded)
        monkeypatch.setattr(cues_module, "_CORE_CROWDED", None)
        fast = [crowded(b) for b in cases]  # Python's pairs
        _numpy_path(cues_module, monkeypatch)
        slow = [crowded(b) for b in cases]
    assert sum(s.any() for s in slow) > 100  # crowds, not only lone boxes
    for a, b, c in zip(fast, slow, core):
        assert a.dtype == b.dtype == c.dtype == bool and a.tobytes() == b.tobytes() == c.tobytes()


@pytest.mark.parametrize("grid", [False, True])
def test_shadowing_in_python_equals_the_numpy_pairs(grid, monkeypatch):
    rng = np.random.default_rng(11 + grid)
    cases = []
    for _ in range(400):
        n = int(rng.integers(0, evidence_module._FEW + 1))
        boxes = _boxes(rng, n, grid)
        if n > 2:
            boxes[1] = boxes[0]  # a box twice, on the same pixels
        cases.append((boxes, rng.choice([0.5, 0.7, 0.9], n)))  # equal scores: neither is surer
    cases.append((np.array([[0, 0, np.nan, 10], [0, 0, 10, 10]]), np.array([0.5, 0.9])))  # numpy's own nan
    cases.append((np.array([[0, 0, 10, 10], [9, 0, 19, 10]]), np.array([0.5, 0.9])))  # exactly a tenth: shadowed
    cases.append((np.array([[0, 0, 10, 10], [9.5, 0, 19, 10]]), np.array([0.5, 0.9])))  # a twentieth: not
    fast = [shadowed_mask(b, s) for b, s in cases]
    _numpy_path(evidence_module, monkeypatch)
    slow = [shadowed_mask(b, s) for b, s in cases]
    assert sum(s.any() for s in slow) > 100
    for a, b in zip(fast, slow):
        assert a.dtype == b.dtype == bool and a.tobytes() == b.tobytes()


def test_box_jumps_of_boxes_of_two_dtypes_equal_the_pairwise_functions():
    rng = np.random.default_rng(5)
    previous = _boxes(rng, 30, False).astype(np.float32)
    boxes = previous.astype(np.float64) + rng.uniform(-20, 20, (30, 4))
    with np.errstate(invalid="ignore"):
        size, aspect = box_jumps(previous, boxes)
        for k in range(30):
            for got, expected in ((size[k], size_jump(previous[k], boxes[k])),
                                  (aspect[k], aspect_jump(previous[k], boxes[k]))):
                assert got == expected or (np.isnan(got) and np.isnan(expected))


def _state(e: TrackEvidence) -> list:
    """Every field of a track's evidence as exact bytes or values (floats by repr)."""
    def exact(v):
        if isinstance(v, np.ndarray):
            return (v.dtype.str, v.shape, v.tobytes())
        if isinstance(v, (float, np.floating)):
            return repr(float(v))
        if isinstance(v, (tuple, list)):
            return [exact(x) for x in v]
        return v

    fields = ("count", "det_max", "det_sum", "best_landmark_residual", "shadowed", "first_time", "last_time",
              "first_frame", "last_frame", "first_box", "last_box", "centre_min", "centre_max", "side_min",
              "side_max", "still", "measured", "lively", "first_colours", "last_colours", "last_score")
    return ([exact(getattr(e, f)) for f in fields] + [exact(list(e.recent)), exact(e.head), exact(list(e.tail)),
            exact(e.seen_head), exact(list(e.seen_tail)), exact(e.velocity())])


def _reference(frames) -> dict:
    """The per-box definition: each detection added on its own (:meth:`TrackEvidence.add` with
    no centre or side given), shadowing by the tracks' mean confidence as observe_frame judges it,
    the centre's extent as the min / max over every centre seen."""
    tracks: dict = {}
    centres: dict = {}
    for ids, detections, t, index, colours in frames:
        boxes = np.asarray(detections.boxes, np.float64)
        surety = []
        for track_id, score in zip(ids, detections.scores.astype(np.float64).tolist()):
            e = tracks.get(track_id)
            surety.append(score if e is None else (e.det_sum + score) / (e.count + 1))
        shadow = shadowed_mask(boxes, np.array(surety))
        for i, track_id in enumerate(ids):
            e = tracks.setdefault(track_id, TrackEvidence())
            e.add(boxes[i], float(detections.scores[i]), None, t, index, bool(shadow[i]))
            e.colour_last(colours[i])
            centres.setdefault(track_id, []).append((boxes[i, :2] + boxes[i, 2:]) / 2)
    for track_id, seen in centres.items():
        assert np.minimum.reduce(seen).tobytes() == tracks[track_id].centre_min.tobytes()
        assert np.maximum.reduce(seen).tobytes() == tracks[track_id].centre_max.tobytes()
    return tracks


def test_a_frame_at_once_equals_each_box_added_on_its_own():
    rng = np.random.default_rng(17)
    frames = []
    position = rng.uniform(0, 120, (6, 2))  # close enough to overlap now and then
    for index in range(60):
        ids = rng.permutation(6)[: rng.integers(1, 7)]
        # walking tracks, some standing still (their centre on the extent's edge again and again)
        position[::2] += rng.choice([-3.0, 0.0, 2.5], (3, 2))
        sizes = rng.choice([20.0, 40.0, 40.5], (len(ids), 2))
        boxes = np.concatenate([position[ids], position[ids] + sizes], axis=1).astype(np.float32)
        scores = rng.choice([0.6, 0.8, 0.9], len(ids)).astype(np.float32)
        colours = [rng.random((2, 64)).astype(np.float32) for _ in ids]
        frames.append((ids.tolist(), Detections(boxes, scores), index / 25, index, colours))
    book = EvidenceBook(landmark_residuals=False)
    for ids, detections, t, index, colours in frames:
        book.observe_frame(ids, detections, t, index, colours)
    expected = _reference(frames)
    assert len(book) == len(expected) == 6
    for track_id, e in expected.items():
        assert _state(book.get(track_id)) == _state(e)
    assert 0 < sum(e.shadowed for e in expected.values()) < sum(e.count for e in expected.values())


@pytest.mark.parametrize("grid", [False, True])
def test_shadowing_in_the_core_equals_the_python_pairs(grid):
    """``_core.shadowed_pairs`` (what EvidenceBook.observe_frame asks on up to ``_FEW`` boxes)
    gives the Python pairs' list, and None exactly where they defer to numpy (a value that is not
    finite, or a sum that overflows)."""
    from facesel import _core

    rng = np.random.default_rng(13 + grid)
    deferred = shadowed = 0
    for k in range(600):
        n = int(rng.integers(0, evidence_module._FEW + 1))
        boxes = _boxes(rng, n, grid)
        scores = [float(s) for s in (rng.choice([0.5, 0.7, 0.9], n) if k % 2 else rng.uniform(0, 1, n))]
        if n > 2:
            boxes[1] = boxes[0]
        if n and k % 6 == 0:
            boxes[rng.integers(n), rng.integers(4)] = rng.choice([np.nan, np.inf, -np.inf, 1e308])
        core = _core.shadowed_pairs(boxes, scores, evidence_module._SHADOW_OVERLAP)
        python = evidence_module._shadowed_few(boxes.tolist(), scores)
        assert core == python
        deferred += python is None
        shadowed += bool(python) and any(python)
    assert deferred > 20 and shadowed > 100
    with pytest.raises(ValueError, match=r"scores must have one entry per row of boxes \(2\), got 1"):
        _core.shadowed_pairs(np.zeros((2, 4)), [0.5], 0.1)
    with pytest.raises(TypeError, match="scores must be a list"):
        _core.shadowed_pairs(np.zeros((2, 4)), np.zeros(2), 0.1)
    with pytest.raises(ValueError, match="overlap must be finite"):
        _core.shadowed_pairs(np.zeros((2, 4)), [0.5, 0.6], float("nan"))
