"""YuNet's output decoding in the C++ core (``_core.yunet_decode``) against the numpy reference
(``yunet_graph.decode_numpy``: numpy and ``cv2.dnn.NMSBoxes``): the same faces in the same order on
real frames and region squares of the shared videos, on hand-made maps, and bad input refused."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

pytest.importorskip("yuface")
pytest.importorskip("onnxruntime")

from facesel import _core  # noqa: E402
from facesel.detect import yunet_graph  # noqa: E402
from facesel.detect.yunet import YuNetDetector, _padded  # noqa: E402
from video_frames import spread_frames  # noqa: E402

VIDEOS = ("arcade_walkers_1080p.mp4", "selfie_motion_blur_portrait.mp4", "more/LivePortrait__assets_examples_driving_d10.mp4",
          "more/LivePortrait__assets_examples_source_s13.mp4")


def _same(core, reference, where: str) -> None:
    """Equal faces in the same order, every value bit for bit (the core takes numpy's float32 exp)."""
    (boxes, scores, marks), (boxes_ref, scores_ref, marks_ref) = core, reference
    assert boxes.dtype == scores.dtype == marks.dtype == np.float32, where
    assert boxes.shape == boxes_ref.shape and marks.shape == marks_ref.shape, where
    np.testing.assert_array_equal(scores, scores_ref, err_msg=where)
    np.testing.assert_array_equal(marks, marks_ref, err_msg=where)
    np.testing.assert_array_equal(boxes, boxes_ref, err_msg=where)


def _squares(frame: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
    """Region squares as the region search cuts them: 6 squares of one side (one batch) at random places."""
    h, w = frame.shape[:2]
    side = int(rng.integers(96, min(h, w, 400) + 1))
    out = []
    for _ in range(6):
        y, x = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        out.append(_padded(np.ascontiguousarray(frame[y : y + side, x : x + side])))
    return out


@pytest.fixture(scope="module")
def detector():
    return YuNetDetector()


@pytest.mark.parametrize("video", VIDEOS)
def test_core_decodes_real_frames_and_squares_as_numpy_does(shared_data, detector, video):
    if not (shared_data / "videos" / video).exists():
        pytest.skip(f"{video} is not in this copy of the shared data")
    rng = np.random.default_rng(7)
    kept = candidates = 0
    for frame in spread_frames(shared_data, video, 8):
        full = _padded(cv2.resize(frame, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA) if max(frame.shape) > 1280 else frame)
        for batch in ([full], _squares(frame, rng)):
            outputs = detector._run_onnx(np.stack(batch))
            for min_score, nms_iou in ((0.6, 0.45), (0.05, 0.45), (0.3, 0.2), (0.3, 1.0)):
                core = yunet_graph.decode_many(outputs, min_score, nms_iou)
                reference = yunet_graph.decode_many(outputs, min_score, nms_iou, decoder="numpy")
                assert len(core) == len(reference) == len(batch)
                for i, (one, ref) in enumerate(zip(core, reference)):
                    _same(one, ref, f"{video}, image {i} of {len(batch)}, min_score {min_score}, nms_iou {nms_iou}")
                    kept += len(ref[1])
                candidates += sum(int((outputs[f"score{s}"] > min_score).sum()) for s in yunet_graph.STRIDES)
    assert kept > 50, f"too few faces kept to compare ({kept})"
    assert candidates > 2 * kept, "suppression was never exercised"


def test_the_detector_finds_the_same_faces_with_either_decoder(shared_data, monkeypatch):
    frames = spread_frames(shared_data, VIDEOS[0], 6)
    core = YuNetDetector(max_side=1280)
    found = [core.detect(frame) for frame in frames] + core.detect_many([f[300:700, 600:1000] for f in frames])
    monkeypatch.setattr(YuNetDetector, "output_decoder", "numpy")
    reference = [core.detect(frame) for frame in frames] + core.detect_many([f[300:700, 600:1000] for f in frames])
    assert sum(len(d) for d in reference) > 10
    for one, ref in zip(found, reference):
        _same((one.boxes, one.scores, one.landmarks), (ref.boxes, ref.scores, ref.landmarks), "detector")


def _maps(score, box, marks):
    """One level-8 image's outputs from (H, W) scores, (4, H, W) deltas, (10, H, W) landmarks; the
    other strides get empty (all-zero score) maps."""
    h, w = score.shape
    out = {"score8": score[None, None], "box8": box[None], "marks8": marks[None]}
    for s in (16, 32):
        out[f"score{s}"] = np.zeros((1, 1, max(h * 8 // s, 1), max(w * 8 // s, 1)), np.float32)
        out[f"box{s}"] = np.zeros((1, 4) + out[f"score{s}"].shape[2:], np.float32)
        out[f"marks{s}"] = np.zeros((1, 10) + out[f"score{s}"].shape[2:], np.float32)
    return {k: np.ascontiguousarray(v, np.float32) for k, v in out.items()}


def _both(outputs, min_score, nms_iou):
    core = yunet_graph.decode(outputs, min_score, nms_iou)
    _same(core, yunet_graph.decode_numpy(outputs, min_score, nms_iou), f"min_score {min_score}, nms_iou {nms_iou}")
    return core


def test_no_candidates_gives_empty_float32_arrays():
    rng = np.random.default_rng(1)
    outputs = _maps(np.full((4, 4), 0.5, np.float32), rng.normal(size=(4, 4, 4)), rng.normal(size=(10, 4, 4)))
    boxes, scores, marks = _both(outputs, 0.6, 0.45)
    assert boxes.shape == (0, 4) and scores.shape == (0,) and marks.shape == (0, 5, 2)
    # a score equal to min_score is not kept (NMSBoxes keeps only scores above its threshold)
    assert len(_both(outputs, 0.5, 0.45)[1]) == 0


def test_equal_scores_keep_index_order_and_identical_boxes_suppress_each_other():
    h, w = 6, 7
    rows, cols = np.mgrid[0:h, 0:w].astype(np.float32)
    box = np.zeros((4, h, w), np.float32)
    box[2:] = math.log(3.0)  # 24-pixel boxes on an 8-pixel grid: neighbours overlap (IoU 0.5)
    marks = np.random.default_rng(2).normal(size=(10, h, w)).astype(np.float32)
    boxes, scores, _ = _both(_maps(np.full((h, w), 0.8, np.float32), box, marks), 0.6, 0.45)
    assert len(scores) > 1 and np.all(scores == np.float32(0.8))
    assert np.all(np.diff(boxes[:, 1] * 1000 + boxes[:, 0]) > 0), "equal scores must stay in row-major order"
    # identical boxes: every cell's centre moved to the same point; only the best survives, and of
    # equal best scores the first cell
    same = box.copy()
    same[0], same[1] = 3.0 - cols, 2.0 - rows
    score = np.full((h, w), 0.7, np.float32)
    score[4, 5] = score[1, 2] = 0.9
    boxes, scores, marks_out = _both(_maps(score, same, marks), 0.6, 0.45)
    assert len(scores) == 1 and scores[0] == np.float32(0.9)
    np.testing.assert_array_equal(marks_out[0], ((marks[:, 1, 2].reshape(5, 2) + [2, 1]) * 8).astype(np.float32))
    # nms_iou = 1: identical boxes overlap exactly 1, which is not above 1: all kept
    assert len(_both(_maps(score, same, marks), 0.6, 1.0)[1]) == h * w


@pytest.mark.parametrize("seed", range(12))
def test_random_maps_match_the_reference(seed):
    rng = np.random.default_rng(seed)
    h, w = int(rng.integers(1, 40)), int(rng.integers(1, 40))
    score = rng.random((h, w)).astype(np.float32)
    if seed % 3 == 0:
        score = np.round(score * 8) / 8  # many ties
    box = rng.normal(0, 1.0, (4, h, w)).astype(np.float32)
    marks = rng.normal(0, 2.0, (10, h, w)).astype(np.float32)
    outputs = _maps(score, box, marks)
    for min_score, nms_iou in ((0.0, 0.45), (0.5, 0.3), (0.9, 0.7), (0.2, 1.0), (0.1, 0.05)):
        _both(outputs, min_score, nms_iou)
    batch = {k: np.concatenate([v, v[..., ::-1].copy(), v]) for k, v in outputs.items()}
    many = yunet_graph.decode_many(batch, 0.3, 0.45)
    for i, one in enumerate(many):
        _same(one, yunet_graph.decode_numpy({k: v[i : i + 1] for k, v in batch.items()}, 0.3, 0.45), f"batch image {i}")


def _good():
    rng = np.random.default_rng(3)
    return _maps(rng.random((4, 4)).astype(np.float32), rng.normal(size=(4, 4, 4)), rng.normal(size=(10, 4, 4)))


def _call(outputs, strides=(8, 16, 32), min_score=0.5, nms_iou=0.45):
    return _core.yunet_decode([outputs[f"score{s}"] for s in (8, 16, 32)], [outputs[f"box{s}"] for s in (8, 16, 32)],
                              [outputs[f"marks{s}"] for s in (8, 16, 32)], list(strides), min_score, nms_iou)


@pytest.mark.parametrize("change, error, words", [
    (lambda o: o.update(score8=o["score8"].astype(np.float64)), TypeError, "scores[0] must be float32"),
    (lambda o: o.update(box16=o["box16"][..., ::-1]), ValueError, "boxes[1] must be C-contiguous"),
    (lambda o: o.update(marks8=o["marks8"][:, :5].copy()), ValueError, "marks[0] must have 10 channel"),
    (lambda o: o.update(box8=o["box8"][:, :, :3].copy()), ValueError, "must have the N, H, W of scores[0]"),
    (lambda o: o.update(score32=o["score32"][0]), ValueError, "scores[2] must have 4 dimensions"),
    (lambda o: o.update(score16=np.concatenate([o["score16"]] * 2), box16=np.concatenate([o["box16"]] * 2),
                        marks16=np.concatenate([o["marks16"]] * 2)), ValueError, "same number of images"),
    (lambda o: o["score8"].__setitem__((0, 0, 1, 1), np.nan), ValueError, "scores[0] must hold finite values"),
    (lambda o: o["box8"].__setitem__((0, 2, 0, 0), 1e4) or o["score8"].__setitem__((0, 0, 0, 0), 0.99), ValueError,
     "box8 at (row 0, col 0)"),
    (lambda o: o["box8"].__setitem__((0, 3, 0, 0), np.nan) or o["score8"].__setitem__((0, 0, 0, 0), 0.99), ValueError,
     "box8 at (row 0, col 0) has a log side"),
    (lambda o: o["box8"].__setitem__((0, 0, 0, 0), np.inf) or o["score8"].__setitem__((0, 0, 0, 0), 0.99), ValueError,
     "box8 at (row 0, col 0) gives a non-finite box"),
    (lambda o: o["marks8"].__setitem__((0, 3, 0, 0), np.inf) or o["score8"].__setitem__((0, 0, 0, 0), 0.99), ValueError,
     "marks8 at (row 0, col 0)"),
    (lambda o: o.update(score8=[[1.0]]), TypeError, "scores[0] must be a numpy.ndarray"),
])
def test_bad_maps_are_refused_with_the_argument_named(change, error, words):
    outputs = _good()
    change(outputs)
    with pytest.raises(error) as raised:
        _call(outputs)
    assert words in str(raised.value)


@pytest.mark.parametrize("kwargs, error, words", [
    ({"min_score": 1.5}, ValueError, "min_score must be in [0, 1], got 1.5"),
    ({"min_score": float("nan")}, ValueError, "min_score must be finite"),
    ({"min_score": True}, TypeError, "min_score must be a real number"),
    ({"nms_iou": 0.0}, ValueError, "nms_iou must be in (0, 1], got 0.0"),
    ({"nms_iou": 1.01}, ValueError, "nms_iou must be in (0, 1]"),
    ({"strides": (8, 16)}, ValueError, "one entry per level"),
    ({"strides": (8, 0, 32)}, ValueError, "strides[1] must be in [1,"),
    ({"strides": (8, 16.0, 32)}, TypeError, "strides[1] must be an int"),
])
def test_bad_numbers_are_refused_with_the_argument_named(kwargs, error, words):
    with pytest.raises(error) as raised:
        _call(_good(), **kwargs)
    assert words in str(raised.value)


def test_an_unknown_decoder_is_refused():
    with pytest.raises(ValueError, match="decoder must be one of"):
        yunet_graph.decode(_good(), 0.5, decoder="cuda")
