"""The ONNX MTCNN on real faces: LFW/ORL crops, arcade frames, agreement with YuNet; its steps."""

from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np
import pytest
from facesel.align import pad_for_detection
from facesel.boxes import pairwise_iou as box_iou
from facesel.detectors import MTCNNDetector, YuNetDetector, make_detector
from facesel.detectors import mtcnn_steps as steps
from facesel.faceset import list_images, read_image


@pytest.fixture(scope="module")
def mtcnn():
    return MTCNNDetector()


@pytest.fixture(scope="module")
def arcade_small(shared_data):
    """Frames 20 and 70 of the arcade video at 960x540 (MTCNN's pyramid on 1080p is slow)."""
    cap = cv2.VideoCapture(str(shared_data / "videos" / "arcade_walkers_1080p.mp4"))
    frames, index = [], 0
    while index <= 70:
        ok, frame = cap.read()
        if not ok:
            break
        if index in (20, 70):
            frames.append(cv2.resize(frame, (960, 540), interpolation=cv2.INTER_AREA))
        index += 1
    cap.release()
    return frames


def check_face_geometry(box, points):
    x1, y1, x2, y2 = box
    slack = 0.05 * (x2 - x1)
    assert np.all((points[:, 0] >= x1 - slack) & (points[:, 0] <= x2 + slack)), (box, points)
    assert np.all((points[:, 1] >= y1 - slack) & (points[:, 1] <= y2 + slack)), (box, points)
    left_eye, right_eye, nose, mouth_left, mouth_right = points
    assert left_eye[0] < right_eye[0] and mouth_left[0] < mouth_right[0]
    assert max(left_eye[1], right_eye[1]) < nose[1] < min(mouth_left[1], mouth_right[1])


# ----------------------------------------------------------------------------- real faces


def test_mtcnn_finds_padded_lfw_faces_with_sane_landmarks(shared_data, mtcnn):
    seen, found, tried = set(), 0, 0
    for ident, path in list_images(shared_data / "faces" / "lfw" / "eval"):
        if ident in seen:
            continue
        seen.add(ident)
        image = read_image(path)
        padded, dx, dy = pad_for_detection(image)
        dets = mtcnn.detect(padded)
        tried += 1
        if len(dets):
            h, w = image.shape[:2]
            truth = np.array([[dx, dy, dx + w, dy + h]], np.float32)
            best = int(np.argmax(box_iou(dets.boxes, truth)[:, 0]))
            assert box_iou(dets.boxes[best : best + 1], truth)[0, 0] > 0.3
            assert 0.8 <= dets.scores[best] <= 1.0
            check_face_geometry(dets.boxes[best], dets.landmarks[best])
            found += 1
        if tried == 10:
            break
    assert found >= 9, f"MTCNN found {found} of {tried} padded LFW faces"


def test_mtcnn_finds_grey_orl_faces(shared_data, mtcnn):
    found = 0
    paths = [p for _, p in list_images(shared_data / "faces" / "orl")][::50][:6]
    for path in paths:
        grey = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        padded, _, _ = pad_for_detection(grey)
        dets = mtcnn.detect(padded)
        if len(dets):
            check_face_geometry(dets.boxes[0], dets.landmarks[0])
            found += 1
    assert found >= 5, f"MTCNN found {found} of {len(paths)} ORL faces"


def test_mtcnn_agrees_with_yunet_on_arcade_frames(arcade_small, mtcnn):
    yunet = YuNetDetector(min_confidence=0.6)
    matched, total = 0, 0
    for frame in arcade_small:
        ours, theirs = mtcnn.detect(frame), yunet.detect(frame)
        assert len(ours) >= 3, "several walkers face the camera in these frames"
        assert np.all(np.diff(ours.scores) <= 0), "detections come in descending score order"
        # Faces turn in this video (a nose may stick out of a profile box), so check the landmarks'
        # centre, not every point.
        centres = ours.landmarks.mean(axis=1)
        assert np.all((centres >= ours.boxes[:, :2]) & (centres <= ours.boxes[:, 2:]))
        if len(theirs):
            iou = box_iou(ours.boxes, theirs.boxes)
            matched += int(np.sum(iou.max(axis=1) >= 0.4))
            total += len(ours)
    # Different detectors draw different boxes (MTCNN's are taller); most faces still pair up.
    assert total > 0 and matched / total >= 0.6, (matched, total)


def test_max_side_maps_boxes_back_to_the_frame(arcade_small):
    frame = arcade_small[0]
    shrunk = MTCNNDetector(max_side=640).detect(frame)
    small = cv2.resize(frame, (640, 360), interpolation=cv2.INTER_AREA)
    direct = MTCNNDetector().detect(small)
    assert len(shrunk) == len(direct) >= 2
    np.testing.assert_allclose(shrunk.boxes, direct.boxes * 1.5, rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(shrunk.landmarks, direct.landmarks * 1.5, rtol=1e-5, atol=1e-3)


def test_a_frame_without_faces_gives_empty_detections(shared_data, mtcnn):
    # A real background patch of the arcade (the ceiling), no face in it.
    cap = cv2.VideoCapture(str(shared_data / "videos" / "arcade_walkers_1080p.mp4"))
    ok, frame = cap.read()
    cap.release()
    dets = mtcnn.detect(np.ascontiguousarray(frame[:200, :400]))
    assert len(dets) == 0 and dets.landmarks.shape == (0, 5, 2)
    assert len(mtcnn.detect(np.zeros((8, 8, 3), np.uint8))) == 0  # smaller than one P-Net window


def test_runs_without_tensorflow_or_torch(shared_data):
    code = (
        "import sys, numpy as np\n"
        "from facesel.detectors import make_detector\n"
        "d = make_detector('mtcnn')\n"
        "d.detect(np.full((120, 160, 3), 90, np.uint8))\n"
        "print(sorted(m for m in ('tensorflow', 'torch', 'keras') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"


# ----------------------------------------------------------------------------- settings, frames


@pytest.mark.parametrize(
    "setting, value, error",
    [
        ("min_face_size", 2, ValueError),
        ("scale_factor", 1.0, ValueError),
        ("scale_factor", 0.0, ValueError),
        ("thresholds", (0.6, 0.7), ValueError),
        ("thresholds", (0.6, 0.7, 1.2), ValueError),
        ("min_confidence", -0.1, ValueError),
        ("max_side", 8, ValueError),
        ("threads", 0, ValueError),
        ("threads", 1.5, TypeError),
    ],
)
def test_bad_settings_raise_naming_the_setting(setting, value, error):
    with pytest.raises(error, match=setting):
        make_detector("mtcnn", **{setting: value})


@pytest.mark.parametrize(
    "frame, error",
    [(None, TypeError), (np.zeros((4, 4, 3), np.int16), TypeError), (np.zeros((4, 4, 2), np.uint8), ValueError)],
)
def test_bad_frames_raise(frame, error, mtcnn):
    with pytest.raises(error, match="frame"):
        mtcnn.detect(frame)


# ----------------------------------------------------------------------------- steps


def test_pyramid_starts_at_the_min_face_size_and_stops_at_the_window():
    scales = steps.pyramid_scales(1080, 1920, min_face_size=20, scale_factor=0.709)
    assert scales[0] == pytest.approx(12 / 20)
    np.testing.assert_allclose(scales[1:] / scales[:-1], 0.709)
    assert np.floor(1080 * scales[-1]) >= 12
    assert len(steps.pyramid_scales(10, 10, 20, 0.709)) == 0


def test_suppression_drops_boxes_overlapped_by_any_earlier_box():
    # A overlaps B, B overlaps C, A does not overlap C. mtcnn 1.0.0 drops C too, because B,
    # though dropped, is still before it (stricter than greedy NMS).
    boxes = np.array([[0, 0, 10, 10], [2, 0, 12, 10], [4, 0, 14, 10], [50, 50, 60, 60]], float)
    assert steps.suppress(boxes, 0.5).tolist() == [0, 3]
    assert steps.suppress(boxes, 0.9).tolist() == [0, 1, 2, 3]
    # "min": intersection over the smaller box; a box inside another is dropped.
    nested = np.array([[0, 0, 20, 20], [5, 5, 10, 10]], float)
    assert steps.suppress(nested, 0.7, method="union").tolist() == [0, 1]
    assert steps.suppress(nested, 0.7, method="min").tolist() == [0]
    many = np.random.default_rng(0).uniform(0, 500, (1200, 2))
    blocks = np.concatenate([many, many + 30], axis=1)
    assert steps.suppress(blocks, 0.3, block=100).tolist() == steps.suppress(blocks, 0.3, block=5000).tolist()


def test_crop_and_resize_samples_like_tensorflow(shared_data):
    image = cv2.imread(str(shared_data / "videos" / "otb_girl" / "img" / "0001.jpg"))[:96, :96].astype(np.float32)
    # The whole-image box sampled at the image size returns the image: corners map to 0 and H - 1.
    whole = steps.crop_and_resize(image, np.array([[0.0, 0.0, 96.0, 96.0]]), 96)
    np.testing.assert_allclose(whole[0], image, atol=1e-4)
    # A box beyond the image samples zeros there (mid-grey after normalisation).
    outside = steps.crop_and_resize(image, np.array([[-200.0, -200.0, -100.0, -100.0]]), 24)
    assert np.all(outside == 0)
    # Half the image sampled on 48 points: bilinear samples stay within the pixel range.
    half = steps.crop_and_resize(image, np.array([[0.0, 0.0, 48.0, 48.0]]), 48)
    assert half.min() >= image.min() and half.max() <= image.max()


def test_square_and_refine():
    boxes = np.array([[10.0, 20.0, 30.0, 60.0]])
    square = steps.to_square(boxes)
    np.testing.assert_allclose(square, [[0.0, 20.0, 40.0, 60.0]])
    moved = steps.refine(square, np.array([[0.1, 0.0, 0.1, 0.0]]))
    np.testing.assert_allclose(moved, [[4.1, 20.0, 44.1, 60.0]])  # 0.1 of the 41-pixel inclusive size
