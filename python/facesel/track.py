"""The tracking stage: the C++ tracker, plus where each open track is expected next.

The C++ :class:`facesel.Tracker` associates boxes and runs the track life cycle; this stage adds
what the sparse detection needs from the Python side: the last box of every open track and its
velocity, so that the next frame's search regions are placed where the face will be.
"""

from __future__ import annotations

import numpy as np

from facesel.core import Tracker, TrackerUpdate
from facesel.types import Detections


class TrackStage:
    """One stream's tracker and the last seen box of each open track.

    Parameters
    ----------
    config : facesel.config.PipelineConfig
        Uses min_hits, max_age, metric, max_distance, min_iou, predict_motion.
    """

    def __init__(self, config):
        self.tracker = Tracker(
            metric=config.metric, max_distance=config.max_distance, min_iou=config.min_iou,
            min_hits=config.min_hits, max_age=config.max_age, predict_motion=config.predict_motion,
        )
        self._last: dict[int, tuple[int, np.ndarray, np.ndarray]] = {}  # id -> (frame, box, velocity)
        self._frame = 0

    def update(self, detections: Detections) -> TrackerUpdate:
        """Advance by one frame with this frame's detections (possibly none)."""
        update = self.tracker.update(np.ascontiguousarray(detections.boxes, dtype=np.float32))
        for i, track_id in enumerate(np.asarray(update.track_ids).tolist()):
            box = detections.boxes[i].astype(np.float32)
            previous = self._last.get(track_id)
            velocity = np.zeros(4, np.float32)
            if previous is not None:
                velocity = (box - previous[1]) / max(1, self._frame - previous[0])
            self._last[track_id] = (self._frame, box, velocity)
        self._forget(update)
        self._frame += 1
        return update

    def flush(self) -> TrackerUpdate:
        update = self.tracker.flush()
        self._last.clear()
        return update

    def expected_boxes(self) -> np.ndarray:
        """(T, 4) float32: where each open track's face is expected on the next frame (its last
        box moved on by its velocity for the frames since it was seen)."""
        if not self._last:
            return np.zeros((0, 4), np.float32)
        out = [box + velocity * (self._frame - seen) for seen, box, velocity in self._last.values()]
        return np.stack(out).astype(np.float32)

    def _forget(self, update: TrackerUpdate) -> None:
        for track_id in np.concatenate([update.closed, update.dropped]).tolist():
            self._last.pop(int(track_id), None)
