"""Per-track bookkeeping of the Selector, in memory bounded however long a track lives.

The C++ ``BestCropStore`` keeps the best observations; this module keeps what the Python side
reports besides them: the first and last frame and time of a track and its quality series (and,
when asked, a few small thumbnails for reports), each capped by uniform decimation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from facesel.types import Snapshot, TrackResult


class DecimatedSeries:
    """An append-only series that keeps at most ``capacity`` points of an endless sequence.

    While the series is short every point is kept. When it would exceed ``capacity``, only the
    points whose observation number (0, 1, 2, ... in arrival order) is a multiple of a stride are
    kept, and the stride doubles each time this happens: the kept points stay evenly spread over
    the whole track. The point with the highest value (the earliest on ties, as the best-crop
    store decides) is always kept, so the series' maximum is the track's best quality.

    Parameters
    ----------
    capacity : int >= 2
    """

    def __init__(self, capacity: int):
        if isinstance(capacity, bool) or not isinstance(capacity, (int, np.integer)) or capacity < 2:
            raise ValueError(f"capacity must be an integer >= 2, got {capacity!r}")
        self.capacity = int(capacity)
        self._numbers: list[int] = []
        self._frames: list[int] = []
        self._values: list[float] = []
        self._payloads: list = []
        self._stride = 1
        self._seen = 0
        self._best_number = -1
        self._best_value = -np.inf

    def __len__(self) -> int:
        return len(self._frames)

    @property
    def seen(self) -> int:
        """How many points were added in total (kept or not)."""
        return self._seen

    @property
    def best(self) -> float | None:
        """The highest value added so far (kept in the series), None while empty."""
        return None if self._best_number < 0 else self._best_value

    def add(self, frame_index: int, value: float, payload=None) -> None:
        """Add the point (``frame_index``, ``value``) with an optional ``payload``; the series is
        thinned (the stride doubled) whenever it would exceed ``capacity``, the best point always kept.
        """
        number = self._seen
        self._seen += 1
        is_best = self._best_number < 0 or value > self._best_value
        if is_best:
            self._best_number, self._best_value = number, value
        if number % self._stride != 0 and not is_best:
            return
        self._numbers.append(number)
        self._frames.append(int(frame_index))
        self._values.append(float(value))
        self._payloads.append(payload)
        while len(self._numbers) > self.capacity:
            self._stride *= 2
            keep = [i for i, n in enumerate(self._numbers) if n % self._stride == 0 or n == self._best_number]
            self._numbers = [self._numbers[i] for i in keep]
            self._frames = [self._frames[i] for i in keep]
            self._values = [self._values[i] for i in keep]
            self._payloads = [self._payloads[i] for i in keep]

    def frames(self) -> np.ndarray:
        """(M,) int64 frame indices, in arrival order."""
        return np.asarray(self._frames, dtype=np.int64)

    def values(self) -> np.ndarray:
        """(M,) float64 values, in arrival order."""
        return np.asarray(self._values, dtype=np.float64)

    def payloads(self) -> list:
        """The payload given with each kept point, in arrival order."""
        return list(self._payloads)


@dataclass
class TrackLog:
    """What the Selector remembers of one open track besides the store's best observations."""

    first_frame: int
    first_timestamp: float
    last_frame: int
    last_timestamp: float
    series: DecimatedSeries
    thumbnails: DecimatedSeries | None = None
    confirmed: bool = False

    def seen(self, frame_index: int, timestamp: float, confirmed: bool) -> None:
        """The track was detected on this frame (scored or not)."""
        self.last_frame, self.last_timestamp = frame_index, timestamp
        self.confirmed = self.confirmed or bool(confirmed)

    def add(self, frame_index: int, timestamp: float, quality: float, confirmed: bool, box: np.ndarray,
            crop: np.ndarray, thumbnail_height: int) -> None:
        """A scored observation: it joins the quality series (and the thumbnails). ``box``: 4 floats
        x1, y1, x2, y2 (kept as float32); ``crop``: (h, w, 3) uint8 BGR, shrunk to a
        ``thumbnail_height``-row thumbnail when thumbnails are kept."""
        self.seen(frame_index, timestamp, confirmed)
        self.series.add(frame_index, quality, np.asarray(box, dtype=np.float32).reshape(4))
        if self.thumbnails is not None:
            self.thumbnails.add(frame_index, quality, make_thumbnail(crop, thumbnail_height))


def make_thumbnail(crop: np.ndarray, height: int) -> np.ndarray:
    """(height, w, 3) uint8: the crop scaled to ``height`` rows, keeping its aspect ratio."""
    h, w = crop.shape[:2]
    width = max(1, int(round(w * height / max(h, 1))))
    interpolation = cv2.INTER_AREA if h > height else cv2.INTER_LINEAR
    return cv2.resize(crop, (width, height), interpolation=interpolation)


@dataclass
class SelectedTrack(TrackResult):
    """A :class:`facesel.types.TrackResult` with what the Selector can add when asked.

    A subclass, so that everything written for ``TrackResult`` takes it unchanged.

    Attributes
    ----------
    boxes : (M, 4) float32
        The track's face box (x1, y1, x2, y2) at each entry of ``frame_indices``.
    top : list of Snapshot
        The ``top_k`` best observations, quality descending (``top[0]`` is ``best``).
    candidates : list of Snapshot
        Every finalist the full score was run on, quality descending (at least ``top``): what
        the track finaliser's face vote looks at (:class:`facesel.select.face_vote.DoseFaceVote`).
        Held in memory only; no sink writes them.
    thumbnails : list of (h, w, 3) uint8
        Small colour crops spread over the track (only when the Selector keeps thumbnails, for
        reports; empty otherwise).
    thumbnail_frames : (T,) int64
        The frame index of each thumbnail.
    """

    boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    top: list[Snapshot] = field(default_factory=list)
    candidates: list[Snapshot] = field(default_factory=list)
    thumbnails: list[np.ndarray] = field(default_factory=list)
    thumbnail_frames: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
