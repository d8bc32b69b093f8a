"""The snapshot audit's measurements on real pixels: who is in the video, what each snapshot shows.

Evaluation only (matcher embeddings are biometric templates; the product never computes them):

- :func:`census`: every frame's face detections, embedded by the matcher where the face is big
  enough for it, so that :func:`facesel.eval.snapshots.cluster_people` can find the recognisable
  people.
- :func:`embed_snapshot`: the matcher's embedding of one kept snapshot, from the same frame
  region as the census uses, so that a snapshot and its person are measured alike.
- :class:`IndependentFaceCheck`: whether frontal detectors other than the pipeline's (MTCNN, the
  paper's detector, and dlib's HOG detector) find a face on crops spread over a track. Profiles
  and heads seen from behind: :mod:`facesel.eval.head_checks`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from facesel.align import margin_crop
from facesel.eval.snapshots import sample_positions

MIN_MATCHER_SIDE = 24
"""Smallest face side (pixels) given to the matcher: below it dlib's 150x150 face chip is mostly
interpolation, and such a face is not recognisable anyway."""



class RecognisableChip:
    """``chip(frame, box)``: the face region the matcher embeds, or None when it is not recognisable.

    "Recognisable" follows dlib's own recognition pipeline: dlib's HOG face detector must find
    the face (frontal to half-profile, not the back or top of a head, not a blur), and the
    matcher then embeds the rectangle that detector found. The region around the pipeline's box
    (50 % margin) is scaled so that the face is about 100 pixels, above the HOG detector's
    80-pixel window, and a HOG face counts only when its centre lies inside the box.
    Measured on the arcade video: embedding every detection instead put poor crops, heads seen
    from behind and a poster into one cluster of 355 (average linkage at 0.6).
    """

    def __init__(self, min_side: int = MIN_MATCHER_SIDE, face_pixels: int = 100):
        import dlib

        self.min_side, self.face_pixels = int(min_side), int(face_pixels)
        self._hog = dlib.get_frontal_face_detector()

    def __call__(self, frame: np.ndarray, box) -> np.ndarray | None:
        x1, y1, x2, y2 = (float(v) for v in np.asarray(box, dtype=np.float64).reshape(4))
        side = max(x2 - x1, y2 - y1)
        if min(x2 - x1, y2 - y1) < self.min_side:
            return None
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        square = np.array([cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2])
        try:
            region = margin_crop(frame, square, 0.5)
        except ValueError:
            return None
        left, top = max(0.0, np.floor(square[0] - 0.5 * side)), max(0.0, np.floor(square[1] - 0.5 * side))
        scale = self.face_pixels / side
        big = cv2.resize(region, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        rgb = np.ascontiguousarray(cv2.cvtColor(big, cv2.COLOR_BGR2RGB))
        for rect in self._hog(rgb, 0):
            fx, fy = (rect.left() + rect.right()) / 2 / scale + left, (rect.top() + rect.bottom()) / 2 / scale + top
            if x1 <= fx <= x2 and y1 <= fy <= y2:
                r = [max(0, rect.left()), max(0, rect.top()), min(big.shape[1], rect.right()), min(big.shape[0], rect.bottom())]
                if r[2] - r[0] >= 8 and r[3] - r[1] >= 8:
                    return np.ascontiguousarray(big[r[1]:r[3], r[0]:r[2]])
        return None


@dataclass
class Census:
    """Every usable detection of a video with its matcher embedding.

    Attributes
    ----------
    frames : (N,) int64
    boxes : (N, 4) float32
    embeddings : (N, 128) float32
    chips : list of (h, w, 3) uint8
        Small copies of each face (for the contact sheet; faces, keep in memory only).
    cuts : list of int
        Frames on which the picture was replaced (a cut or a fade:
        :class:`facesel.track_cues.SceneChange`), so that the census never joins the faces before
        and after one by their place in the frame.
    """

    frames: np.ndarray
    boxes: np.ndarray
    embeddings: np.ndarray
    chips: list = field(default_factory=list)
    cuts: list = field(default_factory=list)


def census(frames, detector, matcher, chip_size: int = 96, chipper=None) -> Census:
    """Detect and embed the faces of every frame.

    Parameters
    ----------
    frames : iterable of (H, W, 3) uint8 BGR
    detector : object with ``detect(frame) -> Detections``
    matcher : object with ``embed(image) -> (128,) float32`` (:class:`facesel.eval.matcher.DlibMatcher`)
    chip_size : int
        Longer side of the kept chips.
    chipper : callable ``(frame, box) -> chip or None``, default :class:`RecognisableChip`
    """
    from facesel.track_cues import SceneChange, SwitchRule

    chipper = RecognisableChip() if chipper is None else chipper
    found_frames, boxes, embeddings, chips, cuts = [], [], [], [], []
    scene = SceneChange(SwitchRule())
    for index, frame in enumerate(frames):
        if scene.update(frame)[0] is not None:
            cuts.append(index)
        for box in detector.detect(frame).boxes:
            chip = chipper(frame, box)
            if chip is None:
                continue
            found_frames.append(index)
            boxes.append(box)
            embeddings.append(matcher.embed(chip))
            scale = chip_size / max(chip.shape[:2])
            chips.append(cv2.resize(chip, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else chip)
    return Census(
        frames=np.asarray(found_frames, np.int64),
        boxes=np.asarray(boxes, np.float32).reshape(-1, 4),
        embeddings=np.asarray(embeddings, np.float32).reshape(-1, getattr(matcher, "dim", 128)),
        chips=chips,
        cuts=cuts,
    )


def embed_snapshot(frame: np.ndarray, box, matcher, chipper=None) -> np.ndarray:
    """(D,) float32 embedding of a snapshot's face region; NaN when it is not recognisable."""
    chip = (RecognisableChip() if chipper is None else chipper)(frame, box)
    if chip is None:
        return np.full(getattr(matcher, "dim", 128), np.nan, np.float32)
    return np.asarray(matcher.embed(chip), np.float32)


class IndependentFaceCheck:
    """Do detectors other than the pipeline's see a face in a track?

    Up to ``samples`` crops spread over the track (the box with 50 % margin, scaled to at least
    120 pixels high) are given to MTCNN (accepting a face of confidence >= ``min_confidence``)
    and to dlib's HOG frontal detector; one hit on one crop is enough.
    """

    def __init__(self, samples: int = 8, min_confidence: float = 0.9):
        import dlib

        from facesel.detect import make_detector

        self.samples, self.min_confidence = int(samples), float(min_confidence)
        self._mtcnn = make_detector("mtcnn")
        self._hog = dlib.get_frontal_face_detector()

    def __call__(self, frames, track_frames, track_boxes) -> bool:
        """``frames``: indexable (H, W, 3) uint8; ``track_frames`` (M,) int; ``track_boxes`` (M, 4)."""
        track_frames = np.asarray(track_frames, np.int64).reshape(-1)
        track_boxes = np.asarray(track_boxes, np.float64).reshape(-1, 4)
        for k in sample_positions(len(track_frames), self.samples):
            try:
                crop = margin_crop(frames[int(track_frames[k])], track_boxes[k], 0.5)
            except ValueError:
                continue
            scale = max(1.0, 120.0 / crop.shape[0])
            big = cv2.resize(crop, None, fx=scale, fy=scale) if scale > 1 else crop
            found = self._mtcnn.detect(big)
            if len(found) and float(found.scores.max()) >= self.min_confidence:
                return True
            if len(self._hog(np.ascontiguousarray(cv2.cvtColor(big, cv2.COLOR_BGR2RGB)), 1)):
                return True
        return False
