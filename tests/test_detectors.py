"""YuNet, Haar and the detector factory on real faces (LFW, ORL crops; arcade video frames)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from facesel.align import pad_for_detection
from facesel.boxes import pairwise_iou as box_iou
from facesel.detectors import (
    DETECTOR_NAMES,
    Detector,
    HaarDetector,
    YuNetDetector,
    check_frame,
    make_detector,
)
from facesel.detectors.base import shrink
from facesel.faceset import list_images, read_image


def lfw_faces(root, count: int) -> list[np.ndarray]:
    """The first image of ``count`` different LFW eval identities (tight grey crops as BGR)."""
    seen, images = set(), []
    for ident, path in list_images(root / "faces" / "lfw" / "eval"):
        if ident not in seen:
            seen.add(ident)
            images.append(read_image(path))
        if len(images) == count:
            break
    return images


def arcade_frames(root, indices) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(root / "videos" / "arcade_walkers_1080p.mp4"))
    frames, index = [], 0
    wanted = set(indices)
    while len(frames) < len(wanted):
        ok, frame = cap.read()
        if not ok:
            break
        if index in wanted:
            frames.append(frame)
        index += 1
    cap.release()
    return frames


@pytest.fixture(scope="module")
def yunet():
    return YuNetDetector(min_confidence=0.5)


# ----------------------------------------------------------------------------- factory, settings


def test_make_detector_builds_each_named_detector():
    for name in ("yunet", "haar"):
        det = make_detector(name)
        assert isinstance(det, Detector)
    assert isinstance(make_detector("YuNet", min_confidence=0.7), YuNetDetector)
    assert make_detector("haar", min_neighbors=3).min_neighbors == 3
    assert set(DETECTOR_NAMES) == {"yunet", "mtcnn", "haar"}


def test_make_detector_without_a_name_builds_the_default():
    from facesel.detectors import DEFAULT_DETECTOR

    assert DEFAULT_DETECTOR in DETECTOR_NAMES
    assert type(make_detector()) is type(make_detector(DEFAULT_DETECTOR))


def test_make_detector_rejects_unknown_name_and_setting():
    with pytest.raises(ValueError, match="'retinaface'"):
        make_detector("retinaface")
    with pytest.raises(TypeError, match="name"):
        make_detector(3)
    with pytest.raises(TypeError, match="no setting colour"):
        make_detector("yunet", colour=True)


@pytest.mark.parametrize(
    "name, setting, value, error",
    [
        ("yunet", "min_confidence", 1.5, ValueError),
        ("yunet", "min_confidence", "high", TypeError),
        ("yunet", "max_side", 10, ValueError),
        ("yunet", "max_side", 640.5, TypeError),
        ("yunet", "threads", 0, ValueError),
        ("haar", "scale_factor", 1.0, ValueError),
        ("haar", "min_neighbors", -1, ValueError),
        ("haar", "min_size", 0, ValueError),
        ("haar", "max_side", True, TypeError),
    ],
)
def test_bad_settings_raise_naming_the_setting(name, setting, value, error):
    with pytest.raises(error, match=setting):
        make_detector(name, **{setting: value})


@pytest.mark.parametrize("name", ["yunet", "haar"])
@pytest.mark.parametrize(
    "frame, error, words",
    [
        (None, TypeError, "None"),
        ([[0, 0, 0]], TypeError, "list"),
        (np.zeros((10, 10, 3), np.float32), TypeError, "float32"),
        (np.zeros((10, 10, 4), np.uint8), ValueError, r"\(10, 10, 4\)"),
        (np.zeros((0, 10, 3), np.uint8), ValueError, "empty"),
    ],
)
def test_bad_frames_raise_naming_the_frame(name, frame, error, words):
    det = make_detector(name)
    with pytest.raises(error, match=f"frame.*{words}"):
        det.detect(frame)


def test_check_frame_converts_grey_to_bgr():
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4)
    out = check_frame(grey)
    assert out.shape == (3, 4, 3) and np.array_equal(out[:, :, 1], grey)


def test_shrink_maps_back_exactly_per_axis():
    frame = np.zeros((1080, 1920, 3), np.uint8)
    small, back = shrink(frame, 640)
    assert small.shape == (360, 640, 3)
    assert np.allclose(back, [3.0, 3.0])
    same, one = shrink(frame, 4000)
    assert same is frame and np.array_equal(one, [1.0, 1.0])


# ----------------------------------------------------------------------------- YuNet on real faces


def check_face_geometry(box: np.ndarray, points: np.ndarray) -> None:
    """Landmarks of an upright frontal face: inside the box, eyes above mouth, left eye left."""
    x1, y1, x2, y2 = box
    slack = 0.05 * (x2 - x1)
    assert np.all(points[:, 0] >= x1 - slack) and np.all(points[:, 0] <= x2 + slack)
    assert np.all(points[:, 1] >= y1 - slack) and np.all(points[:, 1] <= y2 + slack)
    left_eye, right_eye, nose, mouth_left, mouth_right = points
    assert left_eye[0] < right_eye[0] and mouth_left[0] < mouth_right[0]
    assert max(left_eye[1], right_eye[1]) < nose[1] < min(mouth_left[1], mouth_right[1])


def test_yunet_finds_the_face_in_padded_lfw_crops(shared_data, yunet):
    images = lfw_faces(shared_data, 12)
    found = 0
    for image in images:
        padded, dx, dy = pad_for_detection(image)
        dets = yunet.detect(padded)
        if len(dets) == 0:
            continue
        h, w = image.shape[:2]
        truth = np.array([[dx, dy, dx + w, dy + h]], np.float32)
        best = int(np.argmax(box_iou(dets.boxes, truth)[:, 0]))
        # The LFW crop is the face region: the detected box must overlap it substantially.
        assert box_iou(dets.boxes[best : best + 1], truth)[0, 0] > 0.3
        check_face_geometry(dets.boxes[best], dets.landmarks[best])
        found += 1
    assert found >= 10, f"YuNet found only {found} of {len(images)} padded LFW faces"


def test_yunet_accepts_grey_orl_faces(shared_data, yunet):
    found = 0
    for _, path in list_images(shared_data / "faces" / "orl")[:30:10]:
        grey = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        padded, _, _ = pad_for_detection(grey)
        dets = yunet.detect(padded)
        found += len(dets) >= 1
        if len(dets):
            check_face_geometry(dets.boxes[0], dets.landmarks[0])
    assert found >= 2


def test_yunet_max_side_agrees_with_full_size_on_arcade_frames(shared_data, yunet):
    frame = arcade_frames(shared_data, [30])[0]
    full = yunet.detect(frame)
    small = YuNetDetector(min_confidence=0.5, max_side=1280).detect(frame)
    assert len(full) >= 4, "the arcade frame shows several walkers' faces"
    assert len(small) >= 3
    # Mapped back to 1080p coordinates, the faces found at 1280 pixels lie on faces found at full size.
    iou = box_iou(small.boxes, full.boxes).max(axis=1)
    assert np.mean(iou >= 0.5) >= 0.75, iou
    assert np.all(small.boxes[:, 2] <= frame.shape[1] + 5) and np.all(small.boxes[:, 3] <= frame.shape[0] + 5)


def test_yunet_threads_setting_reaches_onnx_runtime():
    for threads in (1, 2):
        session = YuNetDetector(threads=threads)._session._session
        assert session.get_session_options().intra_op_num_threads == threads


def test_yunet_threads_setting_reaches_openmp():
    det = YuNetDetector(threads=1, engine="yuface")
    if det._omp is None:
        pytest.skip("this yuface build bundles no OpenMP runtime")
    det._omp.omp_set_num_threads(2)
    det.detect(np.zeros((64, 64, 3), np.uint8))
    assert det._omp.omp_get_max_threads() == 1


# ----------------------------------------------------------------------------- Haar on real faces


def test_haar_finds_padded_lfw_faces_without_landmarks(shared_data):
    haar = HaarDetector()
    images = lfw_faces(shared_data, 12)
    found = 0
    for image in images:
        padded, dx, dy = pad_for_detection(image)
        dets = haar.detect(padded)
        assert dets.landmarks is None
        assert np.all((dets.scores > 0) & (dets.scores < 1))
        h, w = image.shape[:2]
        truth = np.array([[dx, dy, dx + w, dy + h]], np.float32)
        found += len(dets) > 0 and box_iou(dets.boxes, truth).max() > 0.3
    assert found >= 9, f"Haar found only {found} of {len(images)} padded LFW faces"


def test_haar_and_yunet_agree_on_an_arcade_frame(shared_data, yunet):
    frame = arcade_frames(shared_data, [30])[0]
    small = cv2.resize(frame, (960, 540), interpolation=cv2.INTER_AREA)
    haar = HaarDetector(min_size=20).detect(small)
    yu = yunet.detect(small)
    assert len(haar) >= 2 and len(yu) >= 2
    # Most Haar faces lie on a YuNet face (Haar boxes are squarer and tighter: IoU >= 0.3).
    assert np.mean(box_iou(haar.boxes, yu.boxes).max(axis=1) >= 0.3) >= 0.5


def test_haar_reports_missing_cascade(monkeypatch):
    import facesel.detectors.haar as haar_module

    class NoData:
        haarcascades = ""

    monkeypatch.setattr(haar_module.cv2, "data", NoData, raising=False)
    with pytest.raises(FileNotFoundError, match="below 5"):
        HaarDetector()
