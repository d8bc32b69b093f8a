"""YuNet's planar float32 input (session 24): the C++ core writes the first convolution's input,
the graph has no Cast + Transpose, and every output is the same bits as with the uint8 BGR input."""

from __future__ import annotations

import numpy as np
import pytest

from facesel import _core

pytest.importorskip("yuface")
pytest.importorskip("onnxruntime")

from facesel.detect import yunet, yunet_graph  # noqa: E402
from facesel.detect.schedule import search_regions  # noqa: E402
from facesel.detect.yunet import YuNetDetector  # noqa: E402


def _reference(batch: np.ndarray) -> np.ndarray:
    """What the bgr_uint8 graph's Cast + Transpose make of a padded uint8 batch."""
    return batch.astype(np.float32).transpose(0, 3, 1, 2)


def test_planar_batches_hold_the_uint8_batches_values_in_the_first_convolutions_layout():
    rng = np.random.default_rng(24)
    big = rng.integers(0, 256, (300, 301, 3), np.uint8)
    regions = [rng.integers(0, 256, (h, w, 3), np.uint8) for h, w in ((37, 45), (1, 1), (64, 64), (33, 97), (130, 129))]
    regions += [rng.integers(0, 256, (50, 41), np.uint8),  # grey: replicated to three planes
                big[::3, ::2], big[5:90, 7:200, ::-1], big[:, :, 1],  # strided views, reversed channels
                np.ascontiguousarray(big[:45, :37]), rng.integers(0, 256, (2, 1000, 3), np.uint8)]
    planar = _core.region_batches(regions, 32, True)
    packed = _core.region_batches(regions, 32)
    assert len(planar) == len(packed) > 1
    for (p, members), (u, same_members) in zip(planar, packed):
        assert p.dtype == np.float32 and p.flags.c_contiguous and p.shape == (len(members), 3, *u.shape[1:3])
        np.testing.assert_array_equal(members, same_members)
        assert p.tobytes() == np.ascontiguousarray(_reference(u)).tobytes()


def test_planar_must_be_a_bool():
    with pytest.raises(TypeError, match="planar must be True or False, got 1"):
        _core.region_batches([np.zeros((4, 4, 3), np.uint8)], 32, 1)


def test_the_planar_graph_has_neither_cast_nor_transpose():
    onnx = pytest.importorskip("onnx")
    ops = {layout: [node.op_type for node in onnx.load_from_string(yunet_graph.graph_bytes(layout)).graph.node]
           for layout in yunet_graph.INPUT_LAYOUTS}
    assert ops["bgr_uint8"][:2] == ["Cast", "Transpose"] and ops["bgr_uint8"][2:] == ops["planar_float32"]
    with pytest.raises(ValueError, match="input_layout must be one of"):
        yunet_graph.build_graph([], "nchw")


class _Recording:
    """A YuNetDetector of one input layout whose network outputs are kept (copies), in call order."""

    def __init__(self, layout: str):
        self.detector = YuNetDetector(min_confidence=0.6, max_side=1280)
        self.detector.network_input = layout
        self.outputs = []
        run = self.detector._run_onnx

        def recording(batch):
            out = run(batch)
            self.outputs.append({name: value.copy() for name, value in out.items()})
            return out

        self.detector._run_onnx = recording


def _same(a, b) -> bool:
    return all(x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes() for x, y in zip(a, b))


@pytest.fixture(scope="module")
def arcade_frames(shared_data):
    from facesel.video import open_source

    frames = [frame for frame, _ in open_source(shared_data / "videos" / "arcade_walkers_1080p.mp4", every=18)][:6]
    assert len(frames) == 6, "the arcade video gave too few frames"
    return frames


def test_real_frames_and_their_region_squares_give_the_same_bits_with_either_input(arcade_frames):
    packed, planar = _Recording("bgr_uint8"), _Recording("planar_float32")
    found = 0
    for frame in arcade_frames:
        results = []
        for rec in (packed, planar):
            full = rec.detector.detect(frame)
            # serve's region search around the faces found (its squares: 128 / 160 pixels and others)
            regions = search_regions(rec.detector, frame, full.boxes, scale=2.5, face_px=64.0, min_px=128,
                                     base_shrink=1280 / 1920)
            many = rec.detector.detect_many([frame[:700, :900], frame[300:, 500:], frame[:700, :900]])
            results.append([full, regions, *many])
        for a, b in zip(*results):
            assert _same((a.boxes, a.scores, a.landmarks), (b.boxes, b.scores, b.landmarks))
        found += len(results[0][0].scores) + len(results[0][1].scores)
    assert found > 20, "too few faces on the arcade frames to compare"
    assert len(packed.outputs) == len(planar.outputs) >= 3 * len(arcade_frames)
    for a, b in zip(packed.outputs, planar.outputs):
        assert a.keys() == b.keys() and all(_same((a[k],), (b[k],)) for k in a)


def test_a_grey_frame_gives_the_same_bits_with_either_input(arcade_frames):
    import cv2

    grey = cv2.cvtColor(arcade_frames[0], cv2.COLOR_BGR2GRAY)
    packed, planar = _Recording("bgr_uint8"), _Recording("planar_float32")
    a, b = packed.detector.detect(grey), planar.detector.detect(grey)
    assert len(a.scores) > 0 and _same((a.boxes, a.scores, a.landmarks), (b.boxes, b.scores, b.landmarks))


def test_the_default_input_is_planar_and_one_session_serves_each_layout():
    assert YuNetDetector.network_input == "planar_float32"
    detector = YuNetDetector()
    assert detector._session.input_layout == "planar_float32"
    assert yunet._onnx_session(detector.threads, "planar_float32") is detector._session
