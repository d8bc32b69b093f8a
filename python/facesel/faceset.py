"""Aligned crops from a folder of face images laid out as ``<identity>/<image>``.

Used to train the quality model (``facesel train``, ``facesel calibrate``) and to evaluate it: both
must see the crops that :func:`facesel.align.align_face` makes at run time. ``facesel score``
reads its images with :func:`read_image`. So this is product code, not under eval/. The shared LFW
crops are tight (the whole image is the face), so each image is padded before detection; when no
face is found, the whole original image is taken as the face box.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from facesel.align import align_face, pad_for_detection
from facesel.sources.frame_limit import MAX_FRAME_PIXELS, check_max_frame_pixels, refuse_decoded, refuse_large_file

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".pgm", ".bmp", ".tif", ".tiff", ".gif"}


@dataclass
class FaceSet:
    """Attributes: grey (N, 64, 64) uint8; identities (N,) str; paths list[Path];
    detected (N,) bool (False where the box fallback was used)."""

    grey: np.ndarray
    identities: np.ndarray
    paths: list
    detected: np.ndarray

    def __len__(self) -> int:
        return len(self.paths)


def require_folder(path, name: str) -> Path:
    """``path`` as a Path when it is a folder; else FileNotFoundError naming ``name`` and saying what
    is there instead (a file given as ``--data`` was reported "not found")."""
    path = Path(path)
    if not path.is_dir():
        found = "a file" if path.exists() else "not found"
        raise FileNotFoundError(f"{name} must be a folder of faces, got {path} ({found})")
    return path


def list_images(root: Path) -> list[tuple[str, Path]]:
    """(identity, path) for every image under ``root/<identity>/``, sorted for reproducibility."""
    root = require_folder(root, "the face folder")
    items = []
    for ident_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        for path in sorted(ident_dir.iterdir()):
            if path.suffix.lower() in IMAGE_SUFFIXES:
                items.append((ident_dir.name, path))
    return items


def read_image(path: Path, max_frame_pixels: int = MAX_FRAME_PIXELS) -> np.ndarray:
    """(H, W, 3) uint8 BGR; raises ValueError naming the file when it cannot be decoded, or when it has
    more than ``max_frame_pixels`` pixels (refused before decoding when its header says so: review
    8b, finding 1, a 3 MB JPEG of 16000 x 16000 decodes to 768 MB)."""
    refuse_large_file(path, check_max_frame_pixels(max_frame_pixels), "image file", videos=False)
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:  # cv2.imread cannot read GIFs
        cap = cv2.VideoCapture(str(path))
        ok, image = cap.read()
        cap.release()
        if not ok:
            raise ValueError(f"cannot read image file: {path}")
    return refuse_decoded(image, path, max_frame_pixels, "image file")


def locate_tight_face(image: np.ndarray, detector) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, bool]:
    """Find the face of a tight face image: (padded image, box (4,), landmarks (5, 2) or None, found).

    The image is padded (:func:`facesel.align.pad_for_detection`) so that a face filling it can be
    detected; box and landmarks are in padded coordinates. The face is the detection nearest the
    centre of the original image; when there is none, the whole original image is the box.
    """
    padded, dx, dy = pad_for_detection(image)
    dets = detector.detect(padded)
    h, w = image.shape[:2]
    if len(dets):
        centres = (dets.boxes[:, :2] + dets.boxes[:, 2:]) / 2.0
        target = np.array([dx + w / 2.0, dy + h / 2.0], dtype=np.float32)
        best = int(np.argmin(np.linalg.norm(centres - target, axis=1)))
        lm = None if dets.landmarks is None else dets.landmarks[best]
        return padded, dets.boxes[best], lm, True
    return padded, np.array([dx, dy, dx + w, dy + h], dtype=np.float32), None, False


def align_tight_crop(image: np.ndarray, detector) -> tuple[np.ndarray, bool]:
    """Aligned (64, 64) grey crop of a tight face image, and whether the detector found the face."""
    padded, box, landmarks, found = locate_tight_face(image, detector)
    return align_face(padded, box, landmarks).grey, found


def load_face_folder(root: Path, detector=None, limit: int | None = None, progress: bool = False) -> FaceSet:
    """Align every image under ``root/<identity>/`` (see module docstring)."""
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise ValueError(f"limit must be None or an integer >= 0, got {limit!r}")
    if detector is None:
        from facesel.detectors import YuNetDetector

        detector = YuNetDetector(min_confidence=0.5)
    items = list_images(root)[:limit]
    iterator = items
    if progress:
        from tqdm import tqdm

        iterator = tqdm(items, desc=f"aligning {Path(root).name}", unit="img")
    grey, found = [], []
    for _, path in iterator:
        crop, ok = align_tight_crop(read_image(path), detector)
        grey.append(crop)
        found.append(ok)
    return FaceSet(
        grey=np.stack(grey) if grey else np.zeros((0, 64, 64), np.uint8),
        identities=np.array([ident for ident, _ in items]),
        paths=[p for _, p in items],
        detected=np.array(found, dtype=bool),
    )
