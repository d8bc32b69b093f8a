"""The quality model's evidence on real data: degradation response and face vs non-face AUROC.

Shared by the experiment script (which fills the model card) and tests/test_quality_evidence.py.
NumPy + OpenCV only (no torch), so the tests run where torch is absent.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from facesel.align import align_face
from facesel.eval.degrade import KINDS, degrade

SEVERITIES = (0.0, 1.0 / 3.0, 2.0 / 3.0, 1.0)


def degradation_grid(
    faces: np.ndarray, severities=SEVERITIES, kinds=KINDS, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every face degraded by every kind at every severity.

    Returns crops (F*K*S, 64, 64) uint8, kind index (F*K*S,) int, severity (F*K*S,) float.
    The random parts of face f depend on (seed, f, kind) only, so severities of one face and kind
    share one occluder place and motion direction.
    """
    crops, kind_idx, sev = [], [], []
    for k, kind in enumerate(kinds):
        for f, face in enumerate(faces):
            for s in severities:
                crops.append(degrade(face, kind, s, np.random.default_rng([seed, f, k])))
                kind_idx.append(k)
                sev.append(s)
    return np.stack(crops), np.array(kind_idx), np.array(sev)


def average_ranks(values: np.ndarray) -> np.ndarray:
    """(N,) float64 ranks 1..N of ``values``; tied values share their mean rank."""
    values = np.asarray(values, np.float64)
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values), np.float64)
    ranks[order] = np.arange(1, len(values) + 1)
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    return sums[inverse] / counts[inverse]


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation (average ranks for ties): Pearson's r of the ranks."""
    ra, rb = average_ranks(a), average_ranks(b)
    return float(np.corrcoef(ra, rb)[0, 1])


def spearman_per_kind(scores: np.ndarray, kind_idx: np.ndarray, sev: np.ndarray, kinds=KINDS) -> dict:
    """{kind: Spearman(severity, score)} pooled over faces."""
    return {kind: spearman(sev[kind_idx == k], scores[kind_idx == k]) for k, kind in enumerate(kinds)}


def auroc(positive: np.ndarray, negative: np.ndarray) -> float:
    """Probability that a random positive outscores a random negative (ties count one half)."""
    pos = np.asarray(positive, np.float64)
    neg = np.asarray(negative, np.float64)
    ranks = average_ranks(np.concatenate([pos, neg]))
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def _detector_or_yunet(detector, min_confidence: float):
    """``detector`` itself, or the default YuNet detector at ``min_confidence`` when it is None."""
    if detector is not None:
        return detector
    from facesel.detectors import YuNetDetector

    return YuNetDetector(min_confidence=min_confidence)


def _read_frames(path: Path, step: int, limit: int) -> list:
    cap = cv2.VideoCapture(str(path))
    frames, i = [], 0
    while len(frames) < limit:
        ok, frame = cap.read()
        if not ok:
            break
        if i % step == 0:
            frames.append(frame)
        i += 1
    cap.release()
    return frames


def _overlaps(box: np.ndarray, others: np.ndarray) -> bool:
    if len(others) == 0:
        return False
    ix = np.minimum(box[2], others[:, 2]) - np.maximum(box[0], others[:, 0])
    iy = np.minimum(box[3], others[:, 3]) - np.maximum(box[1], others[:, 1])
    return bool(np.any((ix > 0) & (iy > 0)))


def background_crops(data_root: Path, per_frame: int = 6, seed: int = 0, detector=None) -> np.ndarray:
    """(M, 64, 64) uint8 non-face crops cut from the shared videos' backgrounds.

    Square boxes at random places and sizes (1/8 to 1/3 of the frame height) in frames of
    ``arcade_walkers_1080p.mp4``, ``otb_girl`` and ``intel_face_demographics_walking.gif``; a box
    is kept only when it overlaps no face detection (YuNet, confidence 0.3, on the frame) and, for
    OTB, not the annotated face box either. Each box goes through the pipeline's crop function
    (:func:`facesel.align.align_face`, box only), as a detection would.
    """
    detector = _detector_or_yunet(detector, 0.3)
    videos = Path(data_root) / "videos"
    rng = np.random.default_rng(seed)
    sources = []
    sources += [(f, None) for f in _read_frames(videos / "arcade_walkers_1080p.mp4", 10, 11)]
    sources += [(f, None) for f in _read_frames(videos / "intel_face_demographics_walking.gif", 5, 7)]
    # OTB files separate fields by commas or by whitespace, depending on the sequence.
    text = (videos / "otb_girl" / "groundtruth_rect.txt").read_text().replace(",", " ")
    gt = np.array([[float(v) for v in line.split()] for line in text.splitlines() if line.strip()])
    for i in range(0, 500, 50):
        frame = cv2.imread(str(videos / "otb_girl" / "img" / f"{i + 1:04d}.jpg"))
        x, y, w, h = gt[i]
        sources.append((frame, np.array([[x, y, x + w, y + h]], np.float32)))
    crops = []
    for frame, annotated in sources:
        if frame is None:
            raise FileNotFoundError("a video frame of the shared data could not be read")
        h, w = frame.shape[:2]
        faces = detector.detect(frame).boxes.reshape(-1, 4)
        if annotated is not None:
            faces = np.concatenate([faces, annotated])
        kept, tries = 0, 0
        while kept < per_frame and tries < 200:
            tries += 1
            side = rng.uniform(h / 8, h / 3)
            x0, y0 = rng.uniform(0, w - side), rng.uniform(0, h - side)
            box = np.array([x0, y0, x0 + side, y0 + side], np.float32)
            if _overlaps(box, faces):
                continue
            crops.append(align_face(frame, box=box).grey)
            kept += 1
    return np.stack(crops)


def held_out_photos(data_root: Path, n_lfw: int = 60, n_orl: int = 40) -> list[np.ndarray]:
    """``n_lfw + n_orl`` held-out photos (never lfw/train), BGR uint8, as read from disk.

    Images are taken evenly spaced through the sorted ``lfw/eval`` and ``orl`` trees, so that many
    identities appear.
    """
    from facesel.faceset import list_images, read_image

    photos = []
    for folder, n in (("lfw/eval", n_lfw), ("orl", n_orl)):
        items = list_images(Path(data_root) / "faces" / folder)
        if n > len(items):
            raise ValueError(f"asked for {n} faces from {folder}, it has {len(items)}")
        for k in np.linspace(0, len(items) - 1, n).round().astype(int) if n else []:
            photos.append(read_image(items[k][1]))
    return photos


def lfw_eval_photos(data_root: Path, n: int = 120) -> list[np.ndarray]:
    """``n`` held-out lfw/eval photos (never lfw/train), evenly spaced through the sorted tree, as read."""
    return held_out_photos(data_root, n_lfw=n, n_orl=0)


def held_out_faces(data_root: Path, n_lfw: int = 60, n_orl: int = 40, detector=None) -> np.ndarray:
    """(n_lfw + n_orl, 64, 64) uint8 aligned crops of :func:`held_out_photos`, each through the
    pipeline's crop function (YuNet + align_face)."""
    from facesel.faceset import align_tight_crop

    detector = _detector_or_yunet(detector, 0.5)
    return np.stack([align_tight_crop(photo, detector)[0] for photo in held_out_photos(data_root, n_lfw, n_orl)])


def selfie_track(data_root: Path, step: int = 2, detector=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Aligned crops of the largest face in every ``step``-th frame of the hand-held selfie video.

    Returns (M, 64, 64) uint8 crops, (M,) float64 independent sharpness references: the variance
    of the Laplacian of the face box at native resolution, resized to 256x256 (four times the
    scored crop's side, so it sees motion blur the 64x64 crop may hide), and (M,) float64 frame
    coverage of each crop (:func:`facesel.align.frame_coverage`: the face fills this portrait video,
    so many crops reach past the frame edge and are partly border streaks, which the sharpness
    reference, measured inside the frame, does not see). Frames are detected at half size and
    aligned at full size.
    """
    from facesel.align import frame_coverage

    detector = _detector_or_yunet(detector, 0.5)
    cap = cv2.VideoCapture(str(Path(data_root) / "videos" / "selfie_motion_blur_portrait.mp4"))
    crops, sharpness, coverage, i = [], [], [], 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        i += 1
        if (i - 1) % step:
            continue
        small = cv2.resize(frame, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
        det = detector.detect(small)
        if len(det) == 0:
            continue
        k = int(np.argmax((det.boxes[:, 2] - det.boxes[:, 0]) * (det.boxes[:, 3] - det.boxes[:, 1])))
        box, lm = det.boxes[k] * 2.0, det.landmarks[k] * 2.0
        aligned = align_face(frame, box, lm)
        crops.append(aligned.grey)
        coverage.append(frame_coverage(aligned.transform, frame.shape))
        x1, y1, x2, y2 = np.clip(box, 0, [frame.shape[1], frame.shape[0]] * 2).astype(int)
        region = cv2.resize(cv2.cvtColor(frame[y1:y2, x1:x2], cv2.COLOR_BGR2GRAY), (256, 256), interpolation=cv2.INTER_AREA)
        sharpness.append(cv2.Laplacian(region, cv2.CV_64F).var())
    cap.release()
    return np.stack(crops), np.array(sharpness), np.array(coverage)


def degradation_grid_before_alignment(
    data_root: Path, n_lfw: int = 60, n_orl: int = 40, severities=SEVERITIES, kinds=KINDS, seed: int = 0, detector=None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Like :func:`degradation_grid`, but each degradation is applied to the whole photo before the
    crop function, as a camera or a codec would: a JPEG grid then lives in photo pixels and reaches
    the 64x64 crop rescaled and rotated, and noise is partly averaged away by the shrinking.

    The face is detected once on the clean photo and that box and those landmarks align every
    degraded copy, so scores differ by the degradation only, not by a detector that moved.
    Strengths follow :mod:`facesel.eval.degrade` for the photo's size (relative to the photo, not the
    face). Same images as :func:`held_out_faces`. Returns crops (F*K*S, 64, 64) uint8, kind index,
    severity, in the order of :func:`degradation_grid`.
    """
    from facesel.align import pad_for_detection
    from facesel.faceset import locate_tight_face

    detector = _detector_or_yunet(detector, 0.5)
    photos = held_out_photos(data_root, n_lfw, n_orl)
    placements = [locate_tight_face(photo, detector)[1:3] for photo in photos]  # (box, landmarks)
    crops, kind_idx, sev = [], [], []
    for k, kind in enumerate(kinds):
        for f, (photo, (box, lm)) in enumerate(zip(photos, placements)):
            for s in severities:
                degraded = degrade(photo, kind, s, np.random.default_rng([seed, f, k]))
                crops.append(align_face(pad_for_detection(degraded)[0], box, lm).grey)
                kind_idx.append(k)
                sev.append(s)
    return np.stack(crops), np.array(kind_idx), np.array(sev)


def degradation_grid_own_crop(
    photos: list[np.ndarray], severities=SEVERITIES, kinds=KINDS, seed: int = 0, detector=None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each photo degraded whole, then cropped as ``facesel score`` crops a photo: the detector runs
    on the degraded photo itself (:func:`facesel.faceset.align_tight_crop`; the whole photo is the
    box when it finds no face), so a degradation also moves or loses the detection, as it would in use.

    Returns crops (F*K*S, 64, 64) uint8, kind index, severity (order of :func:`degradation_grid`)
    and found (F*K*S,) bool (the detector found the face on the degraded photo).
    """
    from facesel.faceset import align_tight_crop

    detector = _detector_or_yunet(detector, 0.5)
    crops, kind_idx, sev, found = [], [], [], []
    for k, kind in enumerate(kinds):
        for f, photo in enumerate(photos):
            for s in severities:
                crop, ok = align_tight_crop(degrade(photo, kind, s, np.random.default_rng([seed, f, k])), detector)
                crops.append(crop)
                kind_idx.append(k)
                sev.append(s)
                found.append(ok)
    return np.stack(crops), np.array(kind_idx), np.array(sev), np.array(found)
