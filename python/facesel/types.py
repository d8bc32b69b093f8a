"""The data that flows between facesel's stages: detections, snapshots, track results.

Plain dataclasses of NumPy arrays, so that every stage has a narrow, typed interface and can be
tested on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Detections:
    """Faces found in one frame.

    Attributes
    ----------
    boxes : (N, 4) float32
        x1, y1, x2, y2 in frame pixels.
    scores : (N,) float32
        Detector confidence in [0, 1].
    landmarks : (N, 5, 2) float32 or None
        Left eye, right eye, nose tip, left and right mouth corners (as seen in the image), or
        None when the detector gives no landmarks.
    """

    boxes: np.ndarray
    scores: np.ndarray
    landmarks: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.boxes = np.asarray(self.boxes, dtype=np.float32).reshape(-1, 4)
        self.scores = np.asarray(self.scores, dtype=np.float32).reshape(-1)
        if len(self.scores) != len(self.boxes):
            raise ValueError(f"scores must have one entry per box ({len(self.boxes)}), got {len(self.scores)}")
        if self.landmarks is not None:
            self.landmarks = np.asarray(self.landmarks, dtype=np.float32).reshape(-1, 5, 2)
            if len(self.landmarks) != len(self.boxes):
                raise ValueError(
                    f"landmarks must have one (5, 2) entry per box ({len(self.boxes)}), got {len(self.landmarks)}"
                )

    @classmethod
    def empty(cls, with_landmarks: bool = True) -> Detections:
        """No detections: boxes (0, 4), scores (0,) and, when ``with_landmarks``, landmarks
        (0, 5, 2), all float32.
        """
        return cls(
            np.zeros((0, 4), np.float32),
            np.zeros((0,), np.float32),
            np.zeros((0, 5, 2), np.float32) if with_landmarks else None,
        )

    def __len__(self) -> int:
        return len(self.boxes)

    def __getitem__(self, index) -> Detections:
        """Mask or index selection, e.g. ``dets[dets.scores > 0.9]``."""
        index = np.atleast_1d(np.arange(len(self))[index])
        return Detections(
            self.boxes[index],
            self.scores[index],
            None if self.landmarks is None else self.landmarks[index],
        )


@dataclass
class CropContext:
    """What the pipeline knows about each crop besides its pixels: the input of a selection rule.

    A scorer that sets ``uses_context = True`` is called as ``score(crops, context=CropContext)``
    by the Selector (and by the evaluation tools), so that a selection rule can weigh the VAE's
    verdict with free signals of the detector and the tracker. Plain scorers get pixels only.

    Attributes
    ----------
    det_scores : (N,) float32
        Detector confidence of each crop's detection, in [0, 1].
    boxes : (N, 4) float32
        Face box x1, y1, x2, y2 in frame pixels (before any resizing to 64x64).
    landmarks : (N, 5, 2) float32 or None
        Five landmarks in frame pixels (see :class:`Detections`), or None when the detector gives none.
    frame_shape : (2,) int
        Height and width of the frame the crops come from.
    track_ids : (N,) int64 or None
        Track of each crop, when the caller knows it (track-relative rules use it).
    """

    det_scores: np.ndarray
    boxes: np.ndarray
    landmarks: np.ndarray | None
    frame_shape: tuple[int, int]
    track_ids: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.boxes = np.asarray(self.boxes, dtype=np.float32).reshape(-1, 4)
        self.det_scores = np.asarray(self.det_scores, dtype=np.float32).reshape(-1)
        if len(self.det_scores) != len(self.boxes):
            raise ValueError(f"det_scores must have one entry per box ({len(self.boxes)}), got {len(self.det_scores)}")
        if self.landmarks is not None:
            self.landmarks = np.asarray(self.landmarks, dtype=np.float32).reshape(-1, 5, 2)
        if self.track_ids is not None:
            self.track_ids = np.asarray(self.track_ids, dtype=np.int64).reshape(-1)
        self.frame_shape = (int(self.frame_shape[0]), int(self.frame_shape[1]))

    def __len__(self) -> int:
        return len(self.boxes)

    @classmethod
    def from_detections(cls, detections: Detections, frame_shape, track_ids=None) -> CropContext:
        """The context of ``detections`` (its scores, boxes and landmarks, float32) on a frame of
        ``frame_shape`` ((H, W[, C]): the first two are kept), with optional (N,) int64 ``track_ids``.
        """
        return cls(detections.scores, detections.boxes, detections.landmarks, tuple(frame_shape[:2]), track_ids)

    def __getitem__(self, index) -> CropContext:
        index = np.atleast_1d(np.arange(len(self))[index])
        return CropContext(
            self.det_scores[index], self.boxes[index],
            None if self.landmarks is None else self.landmarks[index], self.frame_shape,
            None if self.track_ids is None else self.track_ids[index],
        )


@dataclass
class Snapshot:
    """The one image kept for a person: the observation of a track the pick chose (by default the
    consensus pick among its finalists, :mod:`facesel.scoring.consensus`; the best-scored one with
    ``consensus_finalists = 0``).

    Attributes
    ----------
    crop : (h, w, 3) uint8
        BGR colour crop with margin, at the frame's native resolution.
    box : (4,) float32
        Face box (x1, y1, x2, y2) in frame pixels.
    landmarks : (5, 2) float32 or None
    quality : float
        The scorer's quality of this observation (higher is better).
    frame_index : int
    timestamp : float
        Seconds since the start of the stream (or the caller's clock).
    track_id : int
    clip : list of (h, w, 3) uint8, optional
        Crops of the track's region for the frames within +-W of the best, in frame order.
    clip_frame_indices : list of int
    """

    crop: np.ndarray
    box: np.ndarray
    landmarks: np.ndarray | None
    quality: float
    frame_index: int
    timestamp: float
    track_id: int
    clip: list[np.ndarray] = field(default_factory=list)
    clip_frame_indices: list[int] = field(default_factory=list)


@dataclass
class TrackResult:
    """What the Selector reports for one person when their track closes.

    Attributes
    ----------
    track_id : int
    first_frame, last_frame : int
    first_timestamp, last_timestamp : float
    best : Snapshot
    qualities : (M,) float64
        Quality of every observation of the track, in frame order.
    frame_indices : (M,) int64
        The frame index of each entry of ``qualities``.
    """

    track_id: int
    first_frame: int
    last_frame: int
    first_timestamp: float
    last_timestamp: float
    best: Snapshot
    qualities: np.ndarray
    frame_indices: np.ndarray
