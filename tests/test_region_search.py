"""The region search's work around YuNet in the C++ core (``_core.region_plan``, ``region_batches``,
``region_merge``; ``YuNetDetector.region_search = "core"``) against the Python reference
(``"python"``): the same detections bit for bit on real frames of four shared videos and on the
whole Selector, on random boxes through a stand-in detector, the same network batches as
``_padded`` + ``np.stack``; and bad input refused with the argument named."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from facesel import _core
from facesel.detect import schedule, yunet_graph
from facesel.detect.schedule import search_regions
from facesel.types import Detections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from video_frames import spread_frames

VIDEOS = ("arcade_walkers_1080p.mp4", "selfie_motion_blur_portrait.mp4", "more/LivePortrait__assets_examples_driving_d10.mp4",
          "more/LivePortrait__assets_examples_source_s13.mp4")
SETTINGS = ({"scale": 2.5, "face_px": 64.0, "min_px": 128}, {"scale": 1.5, "face_px": 48.0, "min_px": 96},
            {"scale": 3.0, "face_px": 100.0, "min_px": 0})


def _same(a: Detections, b: Detections, where: str) -> None:
    for x, y, what in ((a.boxes, b.boxes, "boxes"), (a.scores, b.scores, "scores"), (a.landmarks, b.landmarks, "landmarks")):
        assert x is not None and y is not None, f"{where}: {what} missing"
        assert x.dtype == y.dtype == np.float32 and x.shape == y.shape, f"{where}: {what} {x.shape} vs {y.shape}"
        np.testing.assert_array_equal(x, y, err_msg=f"{where}: {what}")


def _both(detector, frame, boxes, **kwargs) -> tuple[Detections, Detections]:
    found = []
    for path in ("core", "python"):
        detector.region_search = path
        # a box near float32's largest value overflows the Python path's centre (numpy warns, and
        # both paths then skip the box); the core path computes it without a warning
        with np.errstate(over="ignore"):
            found.append(search_regions(detector, frame, boxes, **kwargs))
    detector.region_search = "core"
    return found[0], found[1]


@pytest.fixture(scope="module")
def yunet():
    pytest.importorskip("yuface")
    pytest.importorskip("onnxruntime")
    from facesel.detect.yunet import YuNetDetector

    return YuNetDetector(max_side=1280)


@pytest.mark.parametrize("video", VIDEOS)
def test_core_path_finds_what_the_python_path_finds_on_real_frames(shared_data, yunet, video, monkeypatch):
    if not (shared_data / "videos" / video).exists():
        pytest.skip(f"{video} is not in this copy of the shared data")
    squares_through_core = []
    real = type(yunet).detect_squares
    monkeypatch.setattr(type(yunet), "detect_squares", lambda self, regions: squares_through_core.append(len(regions))
                        or real(self, regions))
    rng = np.random.default_rng(11)
    faces = searches = 0
    for frame in spread_frames(shared_data, video, 6):
        full = yunet.detect(frame).boxes
        # the faces where they were, moved and resized a little (tracks' predictions), and places with none
        jittered = full + rng.normal(0, 0.08, full.shape).astype(np.float32) * (full[:, 2:3] - full[:, 0:1])
        h, w = frame.shape[:2]
        centres = rng.uniform([0, 0], [w, h], (4, 2))
        sides = rng.uniform(20, 300, (4, 1))
        elsewhere = np.concatenate([centres - sides / 2, centres + sides / 2], axis=1).astype(np.float32)
        boxes = np.concatenate([full, jittered, elsewhere])
        longer = max(h, w)
        for k, params in enumerate(SETTINGS):
            for fast in (False, True):
                base = min(1.0, 1280 / longer) if k != 1 else 1.0
                core, python = _both(yunet, frame, boxes, base_shrink=base, fast=fast, **params)
                _same(core, python, f"{video}, settings {params}, fast {fast}")
                faces += len(python)
                searches += 1
    assert len(squares_through_core) == searches, "the core path was not taken"
    assert faces > 20, f"too few faces found to compare ({faces})"


class StandIn:
    """A detector whose faces depend only on the square's pixels (a hash of them seeds a generator),
    as Detections for the Python path and as tuples for the core path: exercises planning, cutting,
    mapping back, picking and suppression on any boxes without the network."""

    region_search = "core"

    def detect(self, image):
        return self.detect_many([image])[0]

    def detect_many(self, regions):
        return [Detections(*self._faces(r)) for r in regions]

    def detect_squares(self, regions):
        return [self._faces(r) for r in regions]

    @staticmethod
    def _faces(region):
        h, w = region.shape[:2]
        rng = np.random.default_rng(int(np.frombuffer(np.ascontiguousarray(region).tobytes()[:4096], np.uint8).sum()) + h * 7919 + w)
        k = int(rng.integers(0, 5))
        centre = rng.uniform([0, 0], [w, h], (k, 2))
        half = rng.uniform(2, max(w, h) / 2, (k, 2))
        boxes = np.concatenate([centre - half, centre + half], axis=1).astype(np.float32)
        scores = (np.round(rng.uniform(0.5, 1.0, k) * 4) / 4).astype(np.float32)  # ties
        marks = rng.uniform(0, max(w, h), (k, 5, 2)).astype(np.float32)
        return boxes, scores, marks


def _random_boxes(rng, count: int, w: int, h: int) -> np.ndarray:
    kind = rng.integers(0, 5, count)
    centres = rng.uniform([-0.2 * w, -0.2 * h], [1.2 * w, 1.2 * h], (count, 2))
    sides = np.where(kind[:, None] == 0, rng.uniform(0.5, 8, (count, 1)), rng.uniform(8, 0.8 * max(w, h), (count, 1)))
    boxes = np.concatenate([centres - sides / 2, centres + sides * rng.uniform(0.3, 2, (count, 1)) / 2], axis=1)
    boxes[kind == 1] = boxes[kind == 1][:, [2, 3, 0, 1]]  # inverted
    boxes[kind == 2, 0] += rng.uniform(-1, 1, (kind == 2).sum()) * 1e-3  # fractions near integers
    return boxes.astype(np.float32)


@pytest.mark.parametrize("seed", range(8))
def test_random_boxes_give_the_same_detections_either_way(seed):
    rng = np.random.default_rng(seed)
    h, w = int(rng.integers(40, 700)), int(rng.integers(40, 900))
    frame = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    boxes = _random_boxes(rng, 40, w, h)
    specials = np.array([[np.nan, 0, 10, 10], [0, 0, np.inf, 10], [5, 5, 5, 5], [3e38, 3e38, 3.4e38, 3.4e38],
                         [w - 2, h - 2, w + 40, h + 40], [-50, -50, 2, 2]], np.float32)
    boxes = np.concatenate([boxes, specials])
    faces = 0
    for fast in (False, True):
        for base in (1.0, 0.5, 0.37):
            for params in SETTINGS:
                for nms_iou in (0.5, 0.1, 1.0):
                    core, python = _both(StandIn(), frame, boxes, base_shrink=base, fast=fast, nms_iou=nms_iou, **params)
                    _same(core, python, f"seed {seed}, fast {fast}, base {base}, {params}, nms_iou {nms_iou}")
                    faces += len(python)
    assert faces > 50, f"too few faces to compare ({faces})"


def test_an_unknown_region_search_path_is_refused():
    detector = StandIn()
    detector.region_search = "cuda"
    with pytest.raises(ValueError, match="region_search must be one of"):
        search_regions(detector, np.zeros((64, 64, 3), np.uint8), np.array([[10, 10, 40, 40]], np.float32), scale=2.5,
                       face_px=64.0, min_px=32)


def test_plan_of_squares_equals_cut_square():
    rng = np.random.default_rng(4)
    frame = rng.integers(0, 256, (720, 1280, 3), dtype=np.uint8)
    boxes = _random_boxes(rng, 200, 1280, 720)
    for fast in (False, True):
        plan = _core.region_plan(boxes, frame.shape, 2.5, 64.0, 128, 1280 / 1920, fast)
        assert len(plan) > 50
        regions = schedule.shrink_squares(frame, plan.cuts, fast)
        for (x1, y1, x2, y2, step, width, height), index, region, corner, back in zip(
                plan.cuts, plan.index, regions, plan.corners, plan.backs):
            box = boxes[index]
            shrink = min(1280 / 1920, 64.0 / float(max(box[2] - box[0], box[3] - box[1])))
            # (the plan's x2, y2 are already trimmed to the fast path's whole factor: cut_square keeps them)
            ref, ref_corner, ref_back = schedule.cut_square(frame, x1, y1, x2, y2, shrink, fast=fast)
            np.testing.assert_array_equal(region, ref)
            np.testing.assert_array_equal(corner, ref_corner)
            np.testing.assert_array_equal(back, ref_back)
            assert region.shape[:2] == (height, width)


def test_batches_equal_padded_and_stacked_squares():
    rng = np.random.default_rng(9)
    frame = rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)
    from facesel.detect.yunet import _padded

    regions = []
    for _ in range(12):
        y, x = int(rng.integers(0, 200)), int(rng.integers(0, 300))
        h, w = int(rng.choice([17, 32, 33, 64, 90])), int(rng.choice([31, 32, 64, 65]))
        regions.append(frame[y : y + h, x : x + w])  # views, not contiguous
    regions.append(np.ascontiguousarray(regions[0][:, :, 1]))  # grey
    batches = _core.region_batches(regions, yunet_graph.PAD_TO)
    seen = []
    for batch, members in batches:
        assert batch.dtype == np.uint8 and batch.flags.c_contiguous and members.dtype == np.int64
        np.testing.assert_array_equal(batch, np.stack([_padded(np.ascontiguousarray(regions[i])) for i in members]))
        seen += members.tolist()
    assert sorted(seen) == list(range(len(regions))) and len(batches) > 2
    firsts = [int(m[0]) for _, m in batches]
    assert firsts == sorted(firsts), "groups must come in order of first appearance"
    assert _core.region_batches([], 32) == []


def test_whole_selector_is_the_same_with_either_path(shared_data):
    pytest.importorskip("onnxruntime")
    from facesel.detect.yunet import YuNetDetector
    from facesel.selector import Selector
    from facesel.video import open_source

    seen = {}
    try:
        for path in ("python", "core"):
            YuNetDetector.region_search = path
            selector = Selector(threads=1, detect_every=4)
            frames, closed = [], []
            for view in selector.run(open_source(shared_data / "videos" / "selfie_motion_blur_portrait.mp4", max_frames=60),
                                     live=False):
                frames.append([(t.track_id, t.box.tobytes(), t.quality) for t in view.tracks])
                closed += view.closed
            closed += selector.flush()
            seen[path] = (frames, [(r.track_id, r.best.frame_index, r.best.box.tobytes(), r.best.quality) for r in closed],
                          selector.work["regions"])
    finally:
        YuNetDetector.region_search = "core"
    assert seen["core"][2] > 20, "too few regions searched to compare"
    assert seen["core"] == seen["python"]


# ---------------------------------------------------------------- bad input, argument named

def _plan_args(**change):
    args = {"boxes": np.array([[10, 10, 60, 60]], np.float32), "frame_shape": (480, 640, 3), "scale": 2.5, "face_px": 64.0,
            "min_px": 128, "base_shrink": 1.0, "fast": False}
    args.update(change)
    return args


@pytest.mark.parametrize("change, error, words", [
    ({"boxes": np.zeros((3, 5), np.float32)}, ValueError, "boxes must have shape (T, 4)"),
    ({"boxes": np.zeros(4, np.float32)}, ValueError, "boxes must have 2 dimensions"),
    ({"boxes": np.array([["a", "b", "c", "d"]])}, TypeError, "boxes must be a numeric array"),
    ({"boxes": [[0, 0, 1, 1]]}, TypeError, "boxes must be a numpy.ndarray"),
    ({"frame_shape": (480,)}, ValueError, "frame_shape must be (height, width"),
    ({"frame_shape": (0, 640)}, ValueError, "frame_shape's height and width must be in [1,"),
    ({"frame_shape": (480.0, 640)}, TypeError, "frame_shape[0] must be an int"),
    ({"frame_shape": "480x640"}, TypeError, "frame_shape must be a tuple"),
    ({"scale": 0.0}, ValueError, "scale must be > 0, got 0.0"),
    ({"scale": float("nan")}, ValueError, "scale must be finite"),
    ({"face_px": -1}, ValueError, "face_px must be > 0, got -1"),
    ({"min_px": 12.5}, TypeError, "min_px must be an int"),
    ({"min_px": -3}, ValueError, "min_px must be in [0,"),
    ({"base_shrink": 1.5}, ValueError, "base_shrink must be in (0, 1], got 1.5"),
    ({"base_shrink": 0}, ValueError, "base_shrink must be in (0, 1]"),
    ({"fast": 1}, TypeError, "fast must be True or False, got 1"),
])
def test_region_plan_refuses_bad_input_naming_it(change, error, words):
    with pytest.raises(error) as raised:
        _core.region_plan(**_plan_args(**change))
    assert words in str(raised.value)


@pytest.mark.parametrize("regions, pad_to, error, words", [
    (np.zeros((2, 8, 8, 3), np.uint8), 32, TypeError, "regions must be a list or tuple"),
    ([np.zeros((8, 8, 3), np.float32)], 32, TypeError, "regions[0] must be uint8"),
    ([np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8, 4), np.uint8)], 32, ValueError, "regions[1] must have shape (H, W, 3)"),
    ([np.zeros((0, 8, 3), np.uint8)], 32, ValueError, "regions[0] must have sides in [1,"),
    ([[1, 2, 3]], 32, TypeError, "regions[0] must be a numpy.ndarray"),
    ([np.zeros((8, 8, 3), np.uint8)], 0, ValueError, "pad_to must be in [1, 1024], got 0"),
    ([np.zeros((8, 8, 3), np.uint8)], 32.0, TypeError, "pad_to must be an int"),
])
def test_region_batches_refuses_bad_input_naming_it(regions, pad_to, error, words):
    with pytest.raises(error) as raised:
        _core.region_batches(regions, pad_to)
    assert words in str(raised.value)


def _faces(k=1):
    return (np.zeros((k, 4), np.float32), np.zeros(k, np.float32), np.zeros((k, 5, 2), np.float32))


@pytest.mark.parametrize("faces, nms_iou, error, words", [
    ([], 0.5, ValueError, "faces must hold one entry per square of the plan (1), got 0"),
    (_faces(), 0.5, ValueError, "faces must hold one entry per square"),
    ("faces", 0.5, TypeError, "faces must be a list"),
    ([[*_faces()]], 0.5, TypeError, "faces[0] must be a tuple (boxes, scores, marks)"),
    ([(np.zeros((1, 4)), *_faces()[1:])], 0.5, TypeError, "faces[0][0] (boxes) must be float32"),
    ([(np.zeros((1, 5), np.float32), *_faces()[1:])], 0.5, ValueError, "faces[0][0] (boxes) must have shape (K, 4)"),
    ([(_faces(2)[0], *_faces(1)[1:])], 0.5, ValueError, "faces[0][1] (scores) must have shape (K,) with K = 2"),
    ([(*_faces()[:2], np.zeros((1, 10), np.float32))], 0.5, ValueError, "faces[0][2] (marks) must have shape (K, 5, 2)"),
    ([(np.full((1, 4), np.nan, np.float32), *_faces()[1:])], 0.5, ValueError, "faces[0][0] (boxes) must hold finite values"),
    ([(np.zeros((4, 2), np.float32).T, *_faces(2)[1:])], 0.5, ValueError, "faces[0][0] (boxes) must be C-contiguous"),
    ([(_faces()[0], [0.5], _faces()[2])], 0.5, TypeError, "faces[0][1] (scores) must be a numpy.ndarray"),
    ([_faces()], 1.5, ValueError, "nms_iou must be in [0, 1], got 1.5"),
    ([_faces()], None, TypeError, "nms_iou must be a real number"),
])
def test_region_merge_refuses_bad_input_naming_it(faces, nms_iou, error, words):
    plan = _core.region_plan(**_plan_args())
    assert len(plan) == 1
    with pytest.raises(error) as raised:
        _core.region_merge(plan, faces, nms_iou)
    assert words in str(raised.value)


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SPECIALS = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e30, -1e30, 1e-30, 3.0, 700.0, -5.0]


def _array(shape, dtype, values):
    with np.errstate(all="ignore"):  # 1e30 overflows float32 on purpose
        return np.resize(np.array(values, np.float64), shape).astype(dtype)


ANY = st.one_of(
    st.sampled_from([None, 3, 2.5, -1, 0, True, "x", float("nan"), 2**70, [1, 2], (480, 640), np.int64(5), np.float32(0.5)]),
    st.builds(_array,
              st.lists(st.integers(0, 5), max_size=4).map(tuple), st.sampled_from([np.float32, np.float64, np.int32, np.uint8, np.bool_]),
              st.lists(st.sampled_from(SPECIALS), min_size=1, max_size=8)))
NAMES = ("boxes", "frame_shape", "scale", "face_px", "min_px", "base_shrink", "fast")


@FUZZ
@given(position=st.integers(0, len(NAMES) - 1), bad=ANY)
def test_region_plan_fuzz(position, bad):
    args = _plan_args(**{NAMES[position]: bad})
    try:
        with np.errstate(all="ignore"):
            plan = _core.region_plan(**args)
    except (ValueError, TypeError) as err:
        assert NAMES[position].split("[")[0] in str(err), f"error does not name {NAMES[position]}: {err}"
    else:
        cuts = plan.cuts
        assert cuts.dtype == np.int64 and cuts.shape == (len(plan), 7)
        h, w = args["frame_shape"][:2]
        assert np.all((cuts[:, 0] >= 0) & (cuts[:, 2] <= w) & (cuts[:, 1] >= 0) & (cuts[:, 3] <= h))
        assert np.all((cuts[:, 5] >= 1) & (cuts[:, 6] >= 1))


@FUZZ
@given(which=st.integers(0, 2), bad=ANY, k=st.integers(0, 3))
def test_region_merge_fuzz(which, bad, k):
    plan = _core.region_plan(**_plan_args())
    faces = list(_faces(k))
    faces[which] = bad
    try:
        out = _core.region_merge(plan, [tuple(faces)], 0.5)
    except (ValueError, TypeError) as err:
        assert "faces[0]" in str(err), str(err)
    else:
        assert out[0].shape[1:] == (4,) and out[2].shape[1:] == (5, 2) and len(out[0]) <= 1


def test_region_batches_refuses_batches_beyond_two_gib_before_allocating():
    # Before: three broadcast views of one pixel as 32768 x 32768 squares (every side within the
    # per-image limit) asked for 9.7 GB, allocated and zeroed it: the OOM killer's to end on a
    # smaller machine. Now refused naming regions, before any allocation.
    big = np.broadcast_to(np.zeros((1, 1, 3), np.uint8), (32768, 32768, 3))
    with pytest.raises(ValueError, match=r"regions: the padded batches of these 3 images would take more than "
                                         r"2147483648 bytes"):
        _core.region_batches([big] * 3, 32)
    # A frame's worth of real squares stays far below the limit.
    assert len(_core.region_batches([np.zeros((640, 640, 3), np.uint8)] * 8, 32)) == 1
