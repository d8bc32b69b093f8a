"""How sharp a face is in the frame it came from, not in its 64x64 aligned crop.

Why the native frame: the consensus pick (:mod:`facesel.scoring.consensus`) prefers the crop most
like its track's typical one, and in a motion-blurred track the typical crop is a blurred one
(tests/test_selector_videos.py's selfie). Sharpness of the aligned 64x64 crop cannot tell it: a
face of 300 pixels shrunk to 64 loses most of the blur, and where the face is cut by the frame's
edge the crop's padding adds streaks that look sharp. Measured on the face box at the frame's own
resolution, motion blur of a few pixels is still there.

Why scale-normalised: a track's faces change size as people move, and a smaller face has more
edges per pixel. Both measures here compare two frequency bands of the same box, so the face's
size and contrast cancel to first order; they are compared within one track only.

Nothing here is identity: one number per detection, from its own pixels.
"""

from __future__ import annotations

import cv2
import numpy as np

from facesel.align import to_grey

MAX_SIDE = 256
"""Boxes larger than this are shrunk (area averaging) to this side first: the cost stays bounded
(a 1080p close-up is 500 pixels and more) and blur that survives at 256 pixels is the blur that
shows in a snapshot."""


def face_box_grey(frame: np.ndarray, box) -> np.ndarray:
    """(h, w) float32 grey pixels of ``box`` (x1, y1, x2, y2) clipped to the frame, at most
    :data:`MAX_SIDE` on its long side; an empty (0, 0) array when the box is outside the frame."""
    h, w = frame.shape[:2]
    x1, y1 = max(0, int(np.floor(box[0]))), max(0, int(np.floor(box[1])))
    x2, y2 = min(w, int(np.ceil(box[2]))), min(h, int(np.ceil(box[3])))
    if x2 - x1 < 4 or y2 - y1 < 4:
        return np.zeros((0, 0), np.float32)
    face = to_grey(frame[y1:y2, x1:x2])
    side = max(face.shape)
    if side > MAX_SIDE:
        scale = MAX_SIDE / side
        size = (max(4, round(face.shape[1] * scale)), max(4, round(face.shape[0] * scale)))
        face = cv2.resize(face, size, interpolation=cv2.INTER_AREA)
    return face.astype(np.float32)


def band_ratio(face: np.ndarray) -> float:
    """log of the energy of the finest band (the box minus its Gaussian blur at sigma 1) over the
    next band (sigma 1 minus sigma 2): blur empties the finest band first. ``face``: (h, w)
    float32 from :func:`face_box_grey`; nan when it is empty or flat."""
    if face.size == 0:
        return float("nan")
    s1 = cv2.GaussianBlur(face, (0, 0), 1.0)
    s2 = cv2.GaussianBlur(face, (0, 0), 2.0)
    fine = float(np.square(face - s1).mean())
    mid = float(np.square(s1 - s2).mean())
    if mid <= 1e-9:
        return float("nan")
    return float(np.log((fine + 1e-9) / mid))


def gradient_energy(face: np.ndarray) -> float:
    """log of the mean Sobel gradient magnitude times the box's side over the box's standard
    deviation: edge steepness relative to the face's size and contrast. nan when empty or flat."""
    if face.size == 0:
        return float("nan")
    std = float(face.std())
    if std <= 1e-6:
        return float("nan")
    gx = cv2.Sobel(face, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(face, cv2.CV_32F, 0, 1)
    magnitude = float(np.sqrt(gx * gx + gy * gy).mean())
    return float(np.log(max(magnitude, 1e-9) * max(face.shape) / std))


MEASURES = {"band_ratio": band_ratio, "gradient": gradient_energy}
"""Native sharpness measures by name: ``measure(face_box_grey(frame, box)) -> float`` (higher is sharper)."""


def native_sharpness(frame: np.ndarray, box, measure: str = "band_ratio") -> float:
    """Sharpness of the face ``box`` in ``frame`` ((H, W, 3) BGR or (H, W) uint8) by one of
    :data:`MEASURES`; nan when the box is outside the frame or flat."""
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {sorted(MEASURES)}, got {measure!r}")
    return MEASURES[measure](face_box_grey(frame, box))


class TrackSharpness:
    """The native sharpness of the crops seen of one track, for its median (the consensus gate).

    Memory stays bounded on an endless track: past ``capacity`` values every other one is dropped
    and only every 2nd (then 4th...) new one is kept, so the kept values still span the whole track.
    """

    __slots__ = ("capacity", "_values", "_stride", "_skipped")

    def __init__(self, capacity: int = 4096) -> None:
        if capacity < 2:
            raise ValueError(f"capacity must be at least 2, got {capacity}")
        self.capacity = capacity
        self._values: list[float] = []
        self._stride, self._skipped = 1, 0

    def add(self, value: float) -> None:
        """Note one crop's sharpness (nan, a box outside the frame, is ignored)."""
        if not np.isfinite(value):
            return
        self._skipped += 1
        if self._skipped < self._stride:
            return
        self._skipped = 0
        self._values.append(float(value))
        if len(self._values) >= self.capacity:
            self._values = self._values[::2]
            self._stride *= 2

    def __len__(self) -> int:
        return len(self._values)

    def median(self) -> float:
        """Median of the kept values; nan when none."""
        return float(np.median(self._values)) if self._values else float("nan")
