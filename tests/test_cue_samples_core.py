"""The C++ core's samplers of the switch cues (``_core.colour_histograms``, ``_core.grey_samples``;
cpp/src/cue_samples.cpp) give, bit for bit, what the numpy definitions give
(:func:`facesel.track_cues.appearances_numpy`, :func:`facesel.track_cues.grey_samples_numpy`),
and the tracker's cues on a real video are the same whichever path samples them.

Issue 23 (speed): the core path exists only to cost less (the histograms of a frame were a
dozen numpy calls on a few hundred pixels); any difference, even in the last bit of a float,
could move a threshold decision, so equality is exact (bytes): on real frames and on boxes across
every edge, sub-pixel, inverted and frame-sized, on a one-pixel frame, on a grey frame. Bad input
is refused at the binding, naming the argument."""

from __future__ import annotations

import numpy as np
import pytest

import facesel.track_cues as cues
from facesel.track_cues import colours, crowding, jumps, sampling, scene
from facesel import _core
from facesel.track_cues import appearances_numpy, box_jumps_numpy, grey_samples_numpy, pinned_patches_numpy


def _same(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def _boxes(rng, shape, n) -> np.ndarray:
    """(n, 4) float64 boxes: inside, across each edge, beyond it, sub-pixel, inverted, frame-sized."""
    h, w = shape[:2]
    x1 = rng.uniform(-0.5 * w, 1.2 * w, n)
    y1 = rng.uniform(-0.5 * h, 1.2 * h, n)
    bw = np.exp(rng.uniform(np.log(0.2), np.log(1.2 * w), n)) * rng.choice([1.0, 1.0, 1.0, -1.0], n)
    bh = np.exp(rng.uniform(np.log(0.2), np.log(1.2 * h), n)) * rng.choice([1.0, 1.0, 1.0, -1.0], n)
    boxes = np.stack([x1, y1, x1 + bw, y1 + bh], axis=1)
    boxes[: n // 8] = np.round(boxes[: n // 8])  # whole pixels: edges exactly on the frame's
    boxes[n // 8 : n // 4] = [0, 0, w, h]  # the whole frame
    return boxes


def test_the_core_takes_the_cues_grid():
    assert (_core.CUE_GRID, _core.CUE_BINS) == (cues.GRID, cues.BINS)
    assert colours._CORE_HISTOGRAMS is not None and sampling._CORE_GREY is not None


@pytest.mark.parametrize("shape", [(1080, 1920, 3), (97, 131, 3), (1, 1, 3), (5, 300, 3)])
def test_core_histograms_and_samples_equal_numpy_on_made_frames(shape):
    rng = np.random.default_rng(sum(shape))
    frames = [rng.integers(0, 256, shape, dtype=np.uint8), np.full(shape, 255, np.uint8), np.zeros(shape, np.uint8)]
    for frame in frames:
        boxes = _boxes(rng, shape, 200)
        assert _same(_core.colour_histograms(frame, boxes), appearances_numpy(frame, boxes))
        regions = boxes.astype(np.intp)
        assert _same(_core.grey_samples(frame, regions), grey_samples_numpy(frame, regions))
        grey = np.ascontiguousarray(frame[..., 0])
        assert _same(_core.grey_samples(grey, regions), grey_samples_numpy(grey, regions))


@pytest.mark.parametrize("shape", [(1080, 1920, 3), (97, 131, 3), (1, 1, 3), (360, 640)])
def test_core_pinned_patches_equal_numpy(shape):
    rng = np.random.default_rng(sum(shape) + 1)
    frame = rng.integers(0, 256, shape, dtype=np.uint8)
    for k in (0, 1, 7):
        boxes = _boxes(rng, shape, 30).astype(np.float32)
        previous_regions = _boxes(rng, shape, k).astype(np.intp)
        previous = rng.integers(0, 256, (k, cues.GRID * cues.GRID)).astype(np.float32)
        core = _core.pinned_patches(frame, boxes, previous_regions, previous)
        reference = pinned_patches_numpy(frame, boxes, previous_regions, previous)
        assert len(core) == len(reference) == 3
        for a, b in zip(core, reference):
            assert _same(a, b)


def test_core_box_jumps_equal_numpy():
    rng = np.random.default_rng(9)
    previous = _boxes(rng, (1080, 1920), 300).astype(np.float32)
    boxes = (previous + rng.uniform(-40, 40, previous.shape)).astype(np.float32)
    boxes[:20] = previous[:20]  # no jump at all
    boxes[20:40, 2:] = boxes[20:40, :2]  # no area: the floor
    with np.errstate(invalid="ignore"):
        core, reference = _core.box_jumps(previous, boxes), box_jumps_numpy(previous, boxes)
    assert [list(map(repr, c)) for c in core] == [list(map(repr, r)) for r in reference]
    odd = np.array([[np.nan, 0, 1, 1], [0, 0, np.inf, 1], [0, 0, 1e30, 1e30]], np.float32)
    with np.errstate(invalid="ignore", over="ignore"):
        core, reference = _core.box_jumps(odd, odd[::-1].copy()), box_jumps_numpy(odd, odd[::-1].copy())
    assert [list(map(repr, c)) for c in core] == [list(map(repr, r)) for r in reference]


@pytest.mark.parametrize("shape", [(1080, 1920, 3), (27, 48, 3), (360, 640), (1, 1)])
def test_core_thumbnail_and_its_differences_equal_numpy(shape, monkeypatch):
    rng = np.random.default_rng(sum(shape) + 2)
    frames = [rng.integers(0, 256, shape, dtype=np.uint8) for _ in range(3)] + [np.zeros(shape, np.uint8),
                                                                               np.full(shape, 255, np.uint8)]
    core = [cues.thumbnail(f) for f in frames]
    core_levels = [scene._mean_level(a, b) for a in core for b in core]
    monkeypatch.setattr(scene, "_CORE_TAKE", None)
    reference = [cues.thumbnail(f) for f in frames]
    assert all(_same(a, b) for a, b in zip(core, reference))
    assert [repr(v) for v in core_levels] == [repr(scene._mean_level_numpy(a, b)) for a in reference for b in reference]
    assert max(core_levels) == 255.0  # the largest sum: every level 255 apart


def test_core_crowding_equals_numpy_on_many_boxes():
    rng = np.random.default_rng(4)
    for n in (2, 17, 60):  # beyond the Python pairs' 16 boxes too
        for _ in range(30):
            boxes = _boxes(rng, (360, 640), n) * 0.3
            assert _same(_core.crowded(boxes), cues.crowded_numpy(boxes))
    odd = np.array([[0, 0, np.inf, 10], [5, 5, 20, 20], [np.nan, 0, 10, 10], [0, -np.inf, 10, 10], [1, 1, 9, 9.0]])
    with np.errstate(invalid="ignore"):
        assert _same(_core.crowded(odd), cues.crowded_numpy(odd))
        wide = np.concatenate([odd] * 5)  # 25 boxes: numpy's pairs
        assert _same(_core.crowded(wide), cues.crowded_numpy(wide))


def test_the_public_functions_take_the_core_only_where_it_applies(monkeypatch):
    rng = np.random.default_rng(3)
    frame = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    boxes = _boxes(rng, frame.shape, 50)
    calls = []
    monkeypatch.setattr(colours, "_CORE_HISTOGRAMS", lambda *a: calls.append("h") or _core.colour_histograms(*a))
    monkeypatch.setattr(sampling, "_CORE_GREY", lambda *a: calls.append("g") or _core.grey_samples(*a))
    assert _same(cues.appearances(frame, boxes), appearances_numpy(frame, boxes))
    assert _same(cues.grey_samples_many(frame, boxes.astype(np.intp)), grey_samples_numpy(frame, boxes.astype(np.intp)))
    assert calls == ["h", "g"]
    view = frame[:, ::-1]  # strided: the core never copies a frame, numpy samples it
    assert _same(cues.appearances(view, boxes), appearances_numpy(view, boxes))
    assert _same(cues.grey_samples_many(view, boxes.astype(np.intp)), grey_samples_numpy(view, boxes.astype(np.intp)))
    assert calls == ["h", "g"]


def test_bad_input_is_refused_naming_the_argument():
    frame = np.zeros((10, 10, 3), np.uint8)
    box = np.array([[1.0, 1.0, 5.0, 5.0]])
    with pytest.raises(TypeError, match="frame must be uint8"):
        _core.colour_histograms(frame.astype(np.float32), box)
    with pytest.raises(ValueError, match=r"frame must have shape \(H, W, 3\)"):
        _core.colour_histograms(frame[..., 0].copy(), box)
    with pytest.raises(ValueError, match="frame must be C-contiguous"):
        _core.colour_histograms(frame[:, ::-1], box)
    with pytest.raises(ValueError, match="frame's height and width"):
        _core.grey_samples(np.zeros((0, 4), np.uint8), np.zeros((1, 4), np.int64))
    with pytest.raises(TypeError, match="frame must be a numpy.ndarray"):
        _core.grey_samples([[0]], np.zeros((1, 4), np.int64))
    with pytest.raises(ValueError, match=r"boxes must hold finite values, found nan"):
        _core.colour_histograms(frame, np.array([[1.0, np.nan, 5.0, 5.0]]))
    with pytest.raises(ValueError, match=r"boxes must have shape \(N, 4\)"):
        _core.colour_histograms(frame, np.zeros((2, 3)))
    with pytest.raises(TypeError, match="regions must be an integer array"):
        _core.grey_samples(frame, np.zeros((1, 4)))
    with pytest.raises(ValueError, match="regions must have 2 dimensions"):
        _core.grey_samples(frame, np.zeros(4, np.int64))
    with pytest.raises(TypeError, match="boxes must be float32, got dtype float64"):
        _core.pinned_patches(frame, box, np.zeros((0, 4), np.int64), np.zeros((0, 144), np.float32))
    with pytest.raises(ValueError, match=r"previous_patches must have shape \(1, 144\)"):
        _core.pinned_patches(frame, box.astype(np.float32), np.zeros((1, 4), np.int64), np.zeros((2, 144), np.float32))
    with pytest.raises(ValueError, match="previous_patches must hold whole grey levels in \\[0, 255\\], found 0.5"):
        _core.pinned_patches(frame, box.astype(np.float32), np.zeros((1, 4), np.int64), np.full((1, 144), 0.5, np.float32))
    with pytest.raises(TypeError, match="previous must be float32"):
        _core.box_jumps(box, box.astype(np.float32))
    with pytest.raises(ValueError, match="same number of rows"):
        _core.box_jumps(np.zeros((2, 4), np.float32), np.zeros((1, 4), np.float32))
    with pytest.raises(ValueError, match="index must lie in \\[0, 300\\)"):
        _core.take_levels(frame, np.array([0, 300]))
    with pytest.raises(TypeError, match="index must be an integer numpy array"):
        _core.take_levels(frame, np.array([0.0]))
    with pytest.raises(ValueError, match="b must hold whole grey levels in \\[0, 255\\], found 256"):
        _core.mean_level(np.zeros(4, np.float32), np.full(4, 256, np.float32))
    with pytest.raises(TypeError, match="a must be a float32 numpy array"):
        _core.mean_level(np.zeros(4), np.zeros(4, np.float32))
    with pytest.raises(ValueError, match="the same number of levels"):
        _core.mean_level(np.zeros(4, np.float32), np.zeros(3, np.float32))
    assert _core.colour_histograms(frame, np.zeros((0, 4))).shape == (0, 2, 64)
    assert _core.grey_samples(frame, np.zeros((0, 4), np.int64)).shape == (0, 144)


def _track_run(frames, detections):
    """Every cue the tracker recorded and the colours it saw, frame by frame."""
    from facesel.config import PipelineConfig
    from facesel.track import TrackStage

    stage = TrackStage(PipelineConfig(), record=True)
    seen = []
    for frame, dets in zip(frames, detections):
        stage.update(dets, frame)
        seen.append(([None if h is None else h.tobytes() for h in stage.appearances], list(stage.still),
                     [repr(v) for v in stage.change], stage.frame_change))
    return seen, [tuple(repr(v) for v in r) for r in stage.records]


def test_the_trackers_cues_on_a_real_video_are_the_same_on_either_path(shared_data, monkeypatch):
    from facesel.detect import make_detector
    from facesel.video import open_source

    source = open_source(shared_data / "videos" / "arcade_walkers_1080p.mp4")
    frames = [frame for _, (frame, _) in zip(range(40), source)]
    detector = make_detector()
    detections = [detector.detect(frame) for frame in frames]
    assert sum(len(d) for d in detections) > 100  # people in every frame, not an empty scene
    core = _track_run(frames, detections)
    monkeypatch.setattr(colours, "_CORE_HISTOGRAMS", None)
    monkeypatch.setattr(sampling, "_CORE_GREY", None)
    monkeypatch.setattr(sampling, "_CORE_PINNED", None)
    monkeypatch.setattr(jumps, "_CORE_JUMPS", None)
    monkeypatch.setattr(scene, "_CORE_TAKE", None)
    monkeypatch.setattr(scene, "_CORE_MEAN_LEVEL", None)
    monkeypatch.setattr(crowding, "_CORE_CROWDED", None)
    numpy_path = _track_run(frames, detections)
    assert sum(h is not None for seen in core[0] for h in seen[0]) > 50  # colours were sampled
    assert core == numpy_path
