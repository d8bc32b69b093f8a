"""The canonical face crop (facesel.align) and the face-folder loader (facesel.faceset), on real faces."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from facesel.align import (
    CROP_SIZE,
    TEMPLATE,
    align_face,
    margin_crop,
    pad_for_detection,
    similarity_from_box,
    similarity_from_landmarks,
)
from facesel.detectors import MTCNNDetector
from facesel.faceset import list_images, load_face_folder, read_image


def apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return np.asarray(points, np.float64) @ matrix[:, :2].T + matrix[:, 2]


@pytest.fixture(scope="module")
def mtcnn():
    return MTCNNDetector()


@pytest.fixture(scope="module")
def lfw_detected(shared_data, mtcnn):
    """(padded image, box, landmarks) of five LFW eval faces found by MTCNN."""
    out, seen = [], set()
    for ident, path in list_images(shared_data / "faces" / "lfw" / "eval"):
        if ident in seen:
            continue
        seen.add(ident)
        padded, _, _ = pad_for_detection(read_image(path))
        dets = mtcnn.detect(padded)
        if len(dets):
            out.append((padded, dets.boxes[0], dets.landmarks[0]))
        if len(out) == 5:
            break
    return out


@pytest.fixture(scope="module")
def arcade_face(shared_data, mtcnn):
    """A 1080p arcade frame and MTCNN's biggest face in it (found at half size, mapped back)."""
    cap = cv2.VideoCapture(str(shared_data / "videos" / "arcade_walkers_1080p.mp4"))
    ok, frame = cap.read()
    cap.release()
    dets = MTCNNDetector(max_side=960).detect(frame)
    big = int(np.argmax(dets.boxes[:, 2] - dets.boxes[:, 0]))
    return frame, dets.boxes[big], dets.landmarks[big]


# ----------------------------------------------------------------------------- geometry


def test_landmarks_that_are_a_similarity_of_the_template_land_on_it_exactly():
    angle, scale, shift = 0.3, 2.7, np.array([412.0, 180.5])
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    landmarks = TEMPLATE.astype(np.float64) @ (scale * rot).T + shift
    matrix = similarity_from_landmarks(landmarks)
    np.testing.assert_allclose(apply(matrix, landmarks), TEMPLATE, atol=1e-3)
    assert np.sqrt(np.linalg.det(matrix[:, :2])) == pytest.approx(1 / scale, rel=1e-6)


def test_mirrored_landmarks_are_not_reflected():
    mirrored = TEMPLATE.astype(np.float64) * [-1.0, 1.0] + [200.0, 0.0]
    matrix = similarity_from_landmarks(mirrored)
    assert np.linalg.det(matrix[:, :2]) > 0


def test_real_landmarks_map_to_the_template_and_the_crop_shows_them_there(lfw_detected, mtcnn):
    assert len(lfw_detected) >= 4
    for padded, box, landmarks in lfw_detected:
        face = align_face(padded, box, landmarks)
        assert face.grey.shape == (CROP_SIZE, CROP_SIZE) and face.grey.dtype == np.uint8
        mapped = apply(face.transform, landmarks)
        # A similarity cannot fit five real points exactly; the least-squares fit puts the eyes
        # within a couple of pixels of the template in the 64-pixel crop.
        assert np.abs(mapped[:2] - TEMPLATE[:2]).max() < 3.0, mapped
        # Re-detect on the crop, enlarged 4x and padded: its landmarks are where the template says.
        big = cv2.resize(face.grey, None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC)
        again = mtcnn.detect(cv2.copyMakeBorder(big, 64, 64, 64, 64, cv2.BORDER_REPLICATE))
        assert len(again) >= 1
        found = (again.landmarks[0] - 64) / 4
        assert np.abs(found[:2] - TEMPLATE[:2]).max() < 3.0, found
        assert np.linalg.norm(found - mapped, axis=1).mean() < 2.5


def test_box_only_alignment_centres_the_box(arcade_face):
    frame, box, _ = arcade_face
    face = align_face(frame, box)
    centre = apply(face.transform, [(box[:2] + box[2:]) / 2])[0]
    np.testing.assert_allclose(centre, [CROP_SIZE / 2, CROP_SIZE / 2 + 5], atol=1e-3)
    side = max(box[2] - box[0], box[3] - box[1]) * np.sqrt(np.linalg.det(face.transform[:, :2]))
    assert side == pytest.approx(0.89 * CROP_SIZE, rel=1e-5)
    # The colour crop keeps native resolution: the box plus 25% on each side.
    h, w = face.colour.shape[:2]
    assert w == pytest.approx(1.5 * (box[2] - box[0]), abs=2) and h == pytest.approx(1.5 * (box[3] - box[1]), abs=2)


def test_box_only_crops_match_landmark_crops_in_scale_and_position(lfw_detected):
    """The fallback for detectors without landmarks (Haar) frames the face like the landmark crop."""
    ratios, shifts = [], []
    for padded, box, landmarks in lfw_detected:
        by_box = align_face(padded, box).transform
        by_landmarks = align_face(padded, box, landmarks).transform
        ratios.append(np.sqrt(np.linalg.det(by_box[:, :2]) / np.linalg.det(by_landmarks[:, :2])))
        # Where the box centre lands in each crop.
        centre = ((box[:2] + box[2:]) / 2)[None]
        shifts.append(apply(by_box, centre)[0] - apply(by_landmarks, centre)[0])
    shifts = np.abs(np.array(shifts))
    assert 0.9 < np.median(ratios) < 1.1, ratios
    # Vertically the box is a good guide; horizontally the face's turn moves the landmarks
    # within the box by a few pixels, which a box alone cannot know.
    assert np.median(shifts[:, 1]) < 2.0 and np.all(shifts[:, 0] < 8.0), shifts


def test_large_faces_are_averaged_not_aliased(arcade_face):
    """The same face from a 4x enlarged frame gives nearly the same crop: shrinking averages."""
    frame, box, landmarks = arcade_face
    small = align_face(frame, box, landmarks).grey.astype(np.float64)
    k = 4
    big_frame = cv2.resize(frame, None, fx=k, fy=k, interpolation=cv2.INTER_CUBIC)
    # Pixel centres: frame pixel x sits at k * x + (k - 1) / 2 in the enlarged frame.
    big = align_face(big_frame, box * k + (k - 1) / 2, landmarks * k + (k - 1) / 2).grey.astype(np.float64)
    assert np.abs(big - small).mean() < 1.2
    sharp = lambda g: cv2.Laplacian(g, cv2.CV_64F).var()
    # A plain bilinear warp of the enlarged frame roughly doubles this (aliasing); averaging keeps it.
    assert 0.8 < sharp(big) / sharp(small) < 1.25


def test_grey_frames_give_colour_crops_too(shared_data):
    path = list_images(shared_data / "faces" / "orl")[0][1]
    grey = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    h, w = grey.shape
    face = align_face(grey, np.array([10, 10, w - 10, h - 10], np.float32))
    assert face.colour.ndim == 3 and face.colour.shape[2] == 3


# ----------------------------------------------------------------------------- bad inputs


GOOD_BOX = np.array([10.0, 10.0, 50.0, 60.0])


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (dict(frame=None, box=GOOD_BOX), TypeError, "frame"),
        (dict(frame=np.zeros((80, 80, 3), np.float32), box=GOOD_BOX), TypeError, "frame"),
        (dict(frame=np.zeros((0, 80, 3), np.uint8), box=GOOD_BOX), ValueError, "frame"),
        (dict(frame=np.zeros((80, 80, 3), np.uint8)), ValueError, "neither"),
        (dict(frame=np.zeros((80, 80, 3), np.uint8), box=[1, 2, 3]), ValueError, "box"),
        (dict(frame=np.zeros((80, 80, 3), np.uint8), box=[50, 10, 10, 60]), ValueError, "box"),
        (dict(frame=np.zeros((80, 80, 3), np.uint8), box=[10, 10, np.nan, 60]), ValueError, "box"),
        (dict(frame=np.zeros((80, 80, 3), np.uint8), box="face"), TypeError, "box"),
        (dict(frame=np.zeros((80, 80, 3), np.uint8), box=[500, 500, 600, 600]), ValueError, "box"),
        (dict(frame=np.zeros((80, 80, 3), np.uint8), landmarks=np.zeros((4, 2))), ValueError, "landmarks"),
        (dict(frame=np.zeros((80, 80, 3), np.uint8), landmarks=np.full((5, 2), np.inf)), ValueError, "landmarks"),
        (dict(frame=np.zeros((80, 80, 3), np.uint8), landmarks=np.full((5, 2), 7.0)), ValueError, "degenerate"),
        (dict(frame=np.zeros((80, 80, 3), np.uint8), box=GOOD_BOX, margin=-0.1), ValueError, "margin"),
        (dict(frame=np.zeros((80, 80, 3), np.uint8), box=GOOD_BOX, margin=True), ValueError, "margin"),
    ],
)
def test_bad_inputs_raise_naming_the_argument(kwargs, error, words):
    with pytest.raises(error, match=words):
        align_face(**kwargs)


def test_similarity_from_box_rejects_empty_boxes():
    with pytest.raises(ValueError, match="box"):
        similarity_from_box([5, 5, 5, 9])


# ----------------------------------------------------------------------------- face folders


def test_load_face_folder_aligns_orl_images(shared_data, mtcnn):
    faces = load_face_folder(shared_data / "faces" / "orl", detector=mtcnn, limit=6)
    assert len(faces) == 6 and faces.grey.shape == (6, CROP_SIZE, CROP_SIZE) and faces.grey.dtype == np.uint8
    assert list(faces.identities) == ["s1"] * 6
    assert faces.detected.sum() >= 5
    # Different photos of one person are similar after alignment, but not identical.
    flat = faces.grey.reshape(6, -1).astype(np.float64)
    corr = np.corrcoef(flat)[np.triu_indices(6, 1)]
    assert np.median(corr) > 0.4 and corr.max() < 0.999
    with pytest.raises(ValueError, match="limit"):
        load_face_folder(shared_data / "faces" / "orl", limit=-1)
    with pytest.raises(FileNotFoundError):
        load_face_folder(shared_data / "faces" / "no_such_folder")


def test_frame_coverage_counts_crop_pixels_taken_from_inside_the_frame():
    from facesel.align import frame_coverage

    identity = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    assert frame_coverage(identity, (64, 64)) == 1.0
    assert frame_coverage(identity, (64, 32, 3)) == 0.5  # the right half of the crop lies past the edge
    shifted = np.array([[1.0, 0.0, 100.0], [0.0, 1.0, 0.0]])  # frame pixel x lands at crop x + 100
    assert frame_coverage(shifted, (64, 64)) == 0.0
    half_scale = np.array([[0.5, 0.0, 0.0], [0.0, 0.5, 0.0]])  # a 128-pixel frame shrunk into the crop
    assert frame_coverage(half_scale, (128, 128)) == 1.0


@pytest.mark.parametrize("matrix", [np.eye(3), np.full((2, 3), np.nan)])
def test_frame_coverage_rejects_bad_matrices(matrix):
    from facesel.align import frame_coverage

    with pytest.raises(ValueError, match="matrix must be"):
        frame_coverage(matrix, (64, 64))


def test_the_grey_patch_gives_the_crop_of_the_whole_grey_frame():
    """align_face converts only the patch a crop samples; the crop is the one the whole grey frame
    gives, also for faces cut by the frame's edge, large faces (shrunk by area) and rotated ones."""
    from facesel.align import grey_source, similarity_from_box, warp_to_crop

    rng = np.random.default_rng(7)
    frame = rng.integers(0, 256, (360, 640, 3), dtype=np.uint8)
    boxes = [(100, 80, 160, 150), (-30, -20, 40, 60), (600, 300, 700, 420), (10, 10, 350, 350),
             (300, 100, 318, 121), (-200, -200, -100, -100)]
    for box in boxes:
        matrix = similarity_from_box(np.array(box, np.float64))
        for angle in (0.0, 0.4):
            rotation = cv2.getRotationMatrix2D((32.0, 32.0), np.degrees(angle), 1.0)
            m = rotation[:, :2] @ matrix[:, :2], rotation[:, :2] @ matrix[:, 2] + rotation[:, 2]
            m = np.hstack([m[0], m[1][:, None]])
            expected = warp_to_crop(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), m)
            np.testing.assert_array_equal(warp_to_crop(*grey_source(frame, m)), expected, err_msg=str(box))


@pytest.mark.parametrize("box", [[np.nan, 10, 50, 60], [10, 10, np.inf, 60]])
def test_margin_crop_refuses_a_box_that_is_not_finite(box):
    # before issue 27 a NaN box silently cut the whole frame (NaN lost every comparison)
    with pytest.raises(ValueError, match="box must be finite"):
        margin_crop(np.zeros((100, 100, 3), np.uint8), np.array(box, np.float64))


def test_the_fit_keeps_its_least_squares_scale_when_it_refuses_to_mirror():
    # a mirrored face: the fit is the best rotation, and its scale is (s1 - s2) / var (Umeyama)
    mirrored = TEMPLATE.astype(np.float64) * [-1.0, 1.0] + [200.0, 0.0]
    matrix = similarity_from_landmarks(mirrored)
    src = mirrored - mirrored.mean(axis=0)
    dst = TEMPLATE.astype(np.float64) - TEMPLATE.astype(np.float64).mean(axis=0)
    singular = np.linalg.svd(dst.T @ src / 5, compute_uv=False)
    expected = (singular[0] - singular[1]) / ((src**2).sum() / 5)
    assert np.sqrt(np.linalg.det(matrix[:, :2])) == pytest.approx(expected, rel=1e-12)
