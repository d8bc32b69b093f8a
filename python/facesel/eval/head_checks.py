"""What a track shows when no frontal face detector sees a face: a profile, a person's head, or junk.

Evaluation only, for the snapshot audit (:mod:`facesel.eval.snapshot_audit`). None of these checks
uses the pipeline's detector or quality model, and all ship inside OpenCV's wheel (nothing is
downloaded): the Haar cascades of ``cv2.data.haarcascades`` (OpenCV 4 wheels; OpenCV 5 wheels ship
none, and a check whose cascade is missing is skipped with its reason) and the HOG people detector
compiled into OpenCV.

- :class:`ProfileFaceCheck`: OpenCV's profile-face cascade (trained on one side only, so it also
  runs on the mirrored crop) finds a face on one of the track's sampled crops.
- :class:`PersonBelowCheck`: a person stands under the box, on at least ``min_crops`` sampled
  crops: OpenCV's HOG people detector (Dalal and Triggs) or its upper-body cascade finds a person
  (or head and shoulders) whose top part holds the box centre. A head seen from behind or from the
  side sits on shoulders; a poster, a logo or a patch of wall does not.

Every threshold was measured on the arcade video's tracks and on boxes of its background:
``python experiments/audit_head_checks.py`` (numbers in ``docs/persons.md``).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from facesel.eval.snapshots import sample_positions

PROFILE_CASCADE = "haarcascade_profileface.xml"
UPPER_BODY_CASCADE = "haarcascade_upperbody.xml"
UPPER_BODY_SIDES = (24, 28, 32)
"""Box sides (pixels) the upper-body region is scaled to; the best count over them is taken. On
these small, blurred regions one scale's answer flips with a pixel of box change (the arcade's
man in profile, frame 3: box top 517 or 518, 2 or 3 neighbours), a few scales' best does not."""


def opencv_cascade(name: str):
    """``(cascade, "")`` for a Haar cascade shipped in the installed OpenCV, or ``(None, reason)``."""
    folder = getattr(getattr(cv2, "data", None), "haarcascades", "")
    if not folder:
        return None, f"OpenCV {cv2.__version__} ships no Haar cascades (cv2.data is empty; opencv-python-headless<5 has them)"
    path = Path(folder) / name
    if not path.is_file():
        return None, f"OpenCV {cv2.__version__} ships no {name} (looked in {folder})"
    cascade = cv2.CascadeClassifier(str(path))
    if cascade.empty():
        return None, f"{path} could not be loaded by OpenCV {cv2.__version__}"
    return cascade, ""


def scaled_region(frame: np.ndarray, box, left: float, right: float, up: float, down: float, side_pixels: float):
    """The frame around a box, in box sides from its centre, scaled so that the box side is ``side_pixels``.

    Parameters
    ----------
    frame : (H, W, 3) uint8 BGR
    box : (4,) float
        x1, y1, x2, y2 in frame pixels.
    left, right, up, down : float >= 0
        Extent of the region from the box centre, in box sides (the larger of width and height);
        clipped to the frame.
    side_pixels : float > 0

    Returns
    -------
    (image, cx, cy, side) or None
        ``image`` (h, w, 3) uint8, the box centre and side in its pixels; None when the region
        lies outside the frame.
    """
    x1, y1, x2, y2 = (float(v) for v in np.asarray(box, dtype=np.float64).reshape(4))
    side = max(x2 - x1, y2 - y1)
    if not side > 0:
        return None
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    h, w = frame.shape[:2]
    left_px, top_px = int(max(0, np.floor(cx - left * side))), int(max(0, np.floor(cy - up * side)))
    right_px, bottom_px = int(min(w, np.ceil(cx + right * side))), int(min(h, np.ceil(cy + down * side)))
    if right_px - left_px < 2 or bottom_px - top_px < 2:
        return None
    scale = side_pixels / side
    image = cv2.resize(np.ascontiguousarray(frame[top_px:bottom_px, left_px:right_px]), None, fx=scale, fy=scale,
                       interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    return image, (cx - left_px) * scale, (cy - top_px) * scale, side_pixels


def _holds(rect, cx: float, cy: float, top: float) -> bool:
    """Whether (x, y, w, h) holds the point horizontally and within its top ``top`` fraction."""
    x, y, w, h = (float(v) for v in rect)
    return x <= cx <= x + w and y <= cy <= y + top * h


def _sampled(track_frames, track_boxes, samples: int):
    track_frames = np.asarray(track_frames, np.int64).reshape(-1)
    track_boxes = np.asarray(track_boxes, np.float64).reshape(-1, 4)
    if len(track_frames) != len(track_boxes):
        raise ValueError(f"track_frames ({len(track_frames)}) and track_boxes ({len(track_boxes)}) must match")
    return [(int(track_frames[k]), track_boxes[k]) for k in sample_positions(len(track_frames), samples)]


class ProfileFaceCheck:
    """Does OpenCV's profile-face cascade find a face on one of a track's sampled crops?

    Each crop (the box with one box side of margin, scaled so that the box side is 80 pixels,
    grey) is searched as it is and mirrored (the cascade knows one side only). A hit must hold the
    box centre, be 0.5-2 box sides wide and gather at least ``min_neighbours`` raw detections
    (``detectMultiScale2``'s count; OpenCV's usual ``minNeighbors=3`` keeps 4 or more).
    ``min_neighbours=6``: on the arcade video 4 accepted 3 of the 60 background boxes it was
    chosen on, 6 none of them nor the poster (and 2 of 60 boxes of a second draw); at 6 it finds
    no face the frontal check misses there (``experiments/audit_head_checks.py``).

    ``available`` is False, with ``skip_reason``, when the installed OpenCV lacks the cascade:
    then the check accepts nothing.
    """

    def __init__(self, samples: int = 8, min_neighbours: int = 6, side_pixels: int = 80):
        if samples < 1 or min_neighbours < 1 or side_pixels < 24:
            raise ValueError(f"samples >= 1, min_neighbours >= 1 and side_pixels >= 24 expected, got "
                             f"{samples!r}, {min_neighbours!r}, {side_pixels!r}")
        self.samples, self.min_neighbours, self.side_pixels = int(samples), int(min_neighbours), int(side_pixels)
        self._cascade, self.skip_reason = opencv_cascade(PROFILE_CASCADE)
        self.available = self._cascade is not None

    def neighbours(self, frame: np.ndarray, box) -> int:
        """The largest neighbour count of a profile hit on this crop (either side), 0 for none."""
        if not self.available:
            return 0
        region = scaled_region(frame, box, 1.0, 1.0, 1.0, 1.0, self.side_pixels)
        if region is None:
            return 0
        image, cx, cy, side = region
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        best = 0
        for mirrored in (False, True):
            view = np.ascontiguousarray(grey[:, ::-1]) if mirrored else grey
            x_centre = view.shape[1] - 1 - cx if mirrored else cx
            rects, counts = self._cascade.detectMultiScale2(view, 1.05, 1, minSize=(int(side / 2), int(side / 2)))
            for rect, count in zip(rects, np.ravel(counts)):
                if _holds(rect, x_centre, cy, 1.0) and 0.5 * side <= rect[2] <= 2 * side:
                    best = max(best, int(count))
        return best

    def __call__(self, frames, track_frames, track_boxes) -> bool:
        """``frames``: indexable (H, W, 3) uint8 BGR; ``track_frames`` (M,) int; ``track_boxes`` (M, 4)."""
        return any(self.neighbours(frames[f], b) >= self.min_neighbours
                   for f, b in _sampled(track_frames, track_boxes, self.samples))


class PersonBelowCheck:
    """Is there a person under a track's box (a head seen from the side or back), not junk?

    On each sampled crop two OpenCV detectors look at the frame around and below the box:

    - the HOG people detector (64x128 window, ``HOGDescriptor_getDefaultPeopleDetector``) on the
      region 3 box sides left and right, 1.5 up and 8 down, scaled so that the box side is 16
      pixels (a head in that window is about 13-16 pixels); a person counts when the box centre
      lies inside it horizontally and in its top 30 %, it is 2.5-8 box sides wide, and its SVM
      margin is at least ``min_margin``;
    - the upper-body (head and shoulders) cascade on the region 2.5 sides left and right, 1.5 up
      and 3.5 down, box side 24, 28 and 32 pixels, histogram-equalised; a hit counts when it holds the box
      centre in its top 60 %, is 1.5-5 box sides wide, and gathers at least
      ``min_neighbours`` raw detections.

    The track is a person's head when at least ``min_crops`` crops (or all, if fewer) have one.
    One crop is not enough: on the arcade video one crop passing accepted 17 of 120 static
    background boxes (columns, lettering, the coat of arms), two crops 1 (a box half over a real
    head seen from behind). Thresholds: ``experiments/audit_head_checks.py``.
    """

    def __init__(self, samples: int = 8, min_crops: int = 2, min_margin: float = 0.7, min_neighbours: int = 3):
        if samples < 1 or min_crops < 1 or min_neighbours < 1 or not np.isfinite(min_margin):
            raise ValueError(f"samples, min_crops, min_neighbours >= 1 and a finite min_margin expected, got "
                             f"{samples!r}, {min_crops!r}, {min_neighbours!r}, {min_margin!r}")
        self.samples, self.min_crops = int(samples), int(min_crops)
        self.min_margin, self.min_neighbours = float(min_margin), int(min_neighbours)
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
        self._upper, self.upper_body_skip_reason = opencv_cascade(UPPER_BODY_CASCADE)

    def person_margin(self, frame: np.ndarray, box) -> float:
        """Best HOG SVM margin of a person whose top holds the box centre; -inf for none."""
        region = scaled_region(frame, box, 3.0, 3.0, 1.5, 8.0, 16)
        if region is None:
            return float("-inf")
        image, cx, cy, side = region
        # The detector needs one whole 64x128 window; a box at the frame's edge gives less.
        grow_y, grow_x = max(0, 128 - image.shape[0]), max(0, 64 - image.shape[1])
        if grow_y or grow_x:
            image = cv2.copyMakeBorder(image, 0, grow_y, 0, grow_x, cv2.BORDER_REPLICATE)
        rects, margins = self._hog.detectMultiScale(image, winStride=(4, 4), padding=(16, 16), scale=1.05)
        best = float("-inf")
        for rect, margin in zip(rects, np.ravel(margins)):
            if _holds(rect, cx, cy, 0.3) and 2.5 * side <= rect[2] <= 8 * side:
                best = max(best, float(margin))
        return best

    def upper_body_neighbours(self, frame: np.ndarray, box) -> int:
        """Largest raw-detection count of a head-and-shoulders hit holding the box centre, over
        the region scales of :data:`UPPER_BODY_SIDES`; 0 for none."""
        if self._upper is None:
            return 0
        best = 0
        for side_pixels in UPPER_BODY_SIDES:
            region = scaled_region(frame, box, 2.5, 2.5, 1.5, 3.5, side_pixels)
            if region is None:
                return 0
            image, cx, cy, side = region
            grey = cv2.equalizeHist(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
            rects, counts = self._upper.detectMultiScale2(grey, 1.05, 1, minSize=(22, 18))
            for rect, n in zip(rects, np.ravel(counts)):
                if _holds(rect, cx, cy, 0.6) and 1.5 * side <= rect[2] <= 5 * side:
                    best = max(best, int(n))
        return best

    def crop_has_person(self, frame: np.ndarray, box) -> bool:
        """Whether either detector finds a person under the box on this crop."""
        return self.person_margin(frame, box) >= self.min_margin or self.upper_body_neighbours(frame, box) >= self.min_neighbours

    def __call__(self, frames, track_frames, track_boxes) -> bool:
        """``frames``: indexable (H, W, 3) uint8 BGR; ``track_frames`` (M,) int; ``track_boxes`` (M, 4)."""
        crops = _sampled(track_frames, track_boxes, self.samples)
        if not crops:
            return False
        hits = sum(self.crop_has_person(frames[f], b) for f, b in crops)
        return hits >= min(self.min_crops, len(crops))
