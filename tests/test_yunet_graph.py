"""YuNet run by ONNX Runtime (facesel.detect.yunet_graph) against yuface's own C++ on real frames."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

pytest.importorskip("yuface")
pytest.importorskip("onnxruntime")

from facesel.boxes import pairwise_iou  # noqa: E402
from facesel.detect import yunet_graph  # noqa: E402
from facesel.detect.yunet import YuNetDetector  # noqa: E402


def _arcade(root: Path, step: int = 9) -> list[np.ndarray]:
    from facesel.video import open_source

    frames = [frame for frame, _ in open_source(root / "videos" / "arcade_walkers_1080p.mp4", every=step)]
    assert frames, "the arcade video gave no frames"
    return frames


@pytest.fixture(scope="module")
def arcade(shared_data):
    return _arcade(shared_data)


def _inputs(frames):
    """Each frame shrunk to 1280x720 (the default), and three regions of other sizes, not multiples of 32."""
    for frame in frames:
        yield cv2.resize(frame, (1280, 720), interpolation=cv2.INTER_AREA)
        yield np.ascontiguousarray(frame[400:700, 500:900])  # 300x400
        yield cv2.resize(frame[450:800, 200:550], (131, 131), interpolation=cv2.INTER_AREA)
        yield np.ascontiguousarray(frame[300:1000:3, 800:1500:3])  # 234x234


def test_the_weight_table_is_the_network_the_graph_is_written_for():
    layers = yunet_graph.load_layers()
    assert len(layers) == len(yunet_graph.LAYER_PLAN) == 53
    first, *_ = layers
    assert first[0].shape == (16, 3, 3, 3)  # the stride-2 3x3 convolution of the BGR pixels
    assert all(np.isfinite(w).all() and np.isfinite(b).all() for w, b, _, _ in layers)
    assert sum(w.size + b.size for w, b, _, _ in layers) > 50_000  # YuNet has about 75k parameters


def test_another_network_in_the_library_is_refused(monkeypatch):
    plan = list(yunet_graph.LAYER_PLAN)
    plan[5] = (16, 48, False, False)  # a layer this build does not have
    monkeypatch.setattr(yunet_graph, "LAYER_PLAN", plan)
    with pytest.raises(RuntimeError, match="engine='yuface'"):
        yunet_graph.load_layers()


def test_onnx_runtime_finds_what_yuface_finds_on_arcade_frames(arcade):
    graph, reference = YuNetDetector(min_confidence=0.5), YuNetDetector(min_confidence=0.5, engine="yuface")
    compared = 0
    for image in _inputs(arcade):
        ours, theirs = graph.detect(image), reference.detect(image)
        # yuface truncates its scores to whole percents and its boxes and landmarks to whole pixels,
        # so a face exactly at the threshold may be on one side for one engine only.
        sure_ours, sure_theirs = ours[ours.scores >= 0.52], theirs[theirs.scores >= 0.52]
        for found, other in ((sure_theirs, ours), (sure_ours, theirs)):
            if len(found):
                assert len(other), f"one engine found {len(found)} faces on a {image.shape} image, the other none"
                assert (pairwise_iou(found.boxes, other.boxes).max(axis=1) >= 0.7).all()  # 16-px faces: truncation alone costs 0.2
        if len(sure_theirs) == 0:
            continue
        match = pairwise_iou(sure_theirs.boxes, ours.boxes).argmax(axis=1)
        box_error = ours.boxes[match] - sure_theirs.boxes
        # yuface truncates x, y, width and height towards zero (a face cut by the left edge: -0.7 -> 0)
        assert ((box_error > -1.0) & (box_error < 2.5)).all()
        mark_error = ours.landmarks[match] - sure_theirs.landmarks
        assert ((mark_error > -1.0) & (mark_error < 1.5)).all()
        score_error = ours.scores[match] - sure_theirs.scores
        assert ((score_error > -0.002) & (score_error < 0.0102)).all()
        compared += len(sure_theirs)
    assert compared >= 100, f"only {compared} faces compared: the arcade frames should hold many more"


def test_a_yuface_build_with_another_network_falls_back_to_its_own_engine(monkeypatch, caplog):
    from facesel.detect import yunet

    plan = list(yunet_graph.LAYER_PLAN)
    plan[5] = (16, 48, False, False)
    monkeypatch.setattr(yunet_graph, "LAYER_PLAN", plan)
    monkeypatch.setattr(yunet_graph, "_graphs", {})  # built afresh from the (refused) table
    monkeypatch.setattr(yunet, "_sessions", {})
    with caplog.at_level("WARNING", logger="facesel"):
        detector = YuNetDetector()
    assert detector.engine == "yuface" and "yuface's own engine" in caplog.text
    assert detector.detect(np.zeros((64, 64, 3), np.uint8)).boxes.shape == (0, 4)


def test_calls_from_two_threads_give_the_single_thread_answers(arcade):
    detector = YuNetDetector()
    images = list(_inputs(arcade[:4]))
    alone = [detector.detect(image) for image in images]
    together: list = [None] * len(images)

    def work(indices):
        for i in indices:
            together[i] = detector.detect(images[i])

    threads = [threading.Thread(target=work, args=(range(k, len(images), 2),)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for a, b in zip(alone, together):
        np.testing.assert_array_equal(a.boxes, b.boxes)
        np.testing.assert_array_equal(a.scores, b.scores)


def test_odd_inputs_give_detections_or_none_never_a_crash():
    detector = YuNetDetector()
    for image in (np.zeros((8, 8, 3), np.uint8), np.full((33, 1000, 3), 200, np.uint8),
                  np.zeros((97, 61), np.uint8)):
        dets = detector.detect(image)
        assert dets.boxes.shape[1:] == (4,) and len(dets.scores) == len(dets.boxes)
    with pytest.raises(ValueError, match="frame"):
        detector.detect(np.zeros((0, 10, 3), np.uint8))


def test_an_unknown_engine_is_named():
    with pytest.raises(ValueError, match="engine must be one of onnxruntime, yuface; got 'gpu'"):
        YuNetDetector(engine="gpu")


def test_memory_stays_flat_over_many_calls_of_changing_size():
    detector = YuNetDetector()
    rng = np.random.default_rng(0)
    sizes = [(int(h), int(w)) for h, w in rng.integers(64, 400, size=(40, 2))]

    def rss_kib() -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    for h, w in sizes:  # every size once: whatever is kept per size is now kept
        detector.detect(rng.integers(0, 255, size=(h, w, 3), dtype=np.uint8))
    before = rss_kib()
    for _ in range(5):
        for h, w in sizes:
            detector.detect(rng.integers(0, 255, size=(h, w, 3), dtype=np.uint8))
    assert rss_kib() - before < 16 * 1024, "200 more calls grew the process by 16 MiB or more"


def test_a_batch_of_squares_gives_each_square_its_own_answer(arcade):
    """detect_many (one network call per padded size) equals detect on each image alone."""
    detector = YuNetDetector()
    images = list(_inputs(arcade[:3])) + [np.ascontiguousarray(arcade[0][500:660, 900:1060])] * 2
    batched = detector.detect_many(images)
    assert len(batched) == len(images)
    for image, many in zip(images, batched):
        one = detector.detect(image)
        assert len(one) == len(many)
        np.testing.assert_allclose(many.boxes, one.boxes, atol=1e-3)
        np.testing.assert_allclose(many.scores, one.scores, atol=1e-5)
        np.testing.assert_allclose(many.landmarks, one.landmarks, atol=1e-3)
    assert YuNetDetector(engine="yuface").detect_many([]) == []
