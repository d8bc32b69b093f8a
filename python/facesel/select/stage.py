"""The scoring and selection stage: align the crops worth a look, screen, score, keep the best."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facesel.align import align_face
from facesel.scoring.base import score_crops, screen_crops
from facesel.select.policy import ScoringPolicy
from facesel.select.store import FLOOR, SelectionStore
from facesel.select.view import TrackView
from facesel.types import CropContext, Detections


@dataclass
class Packet:
    """What the detection + tracking stage hands to this one for one frame.

    Attributes
    ----------
    frame : (H, W, 3) uint8 BGR
    index : int
    stamp : float
    detections : Detections
    update : facesel.TrackerUpdate
        The tracker's update for ``detections`` (one track id per detection).
    full_detection : bool
    """

    frame: np.ndarray
    index: int
    stamp: float
    detections: Detections
    update: object
    full_detection: bool


def check_scores(scores, count: int, what: str) -> np.ndarray:
    """(count,) float64 finite-or--inf scores, -inf raised to :data:`FLOOR`."""
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if scores.shape != (count,):
        raise ValueError(f"scorer returned {scores.shape[0]} {what} for {count} crops")
    if np.isnan(scores).any() or np.isposinf(scores).any():
        raise ValueError(f"scorer returned NaN or +inf {what}: {scores.tolist()}")
    return np.maximum(scores, FLOOR)


class ScoreStage:
    """Per frame: which crops to align (:class:`ScoringPolicy`), one batch per frame across all
    tracks for the scorer, and the store (:class:`SelectionStore`).

    In the sparse mode with a scorer that has ``screen``, crops are screened as they come and the
    full score runs on each track's finalists when it closes; otherwise (exhaustive mode, or no
    screen) every crop looked at is fully scored at once.

    Parameters
    ----------
    scorer : object with ``score(crops)`` (and optionally ``screen``)
    config : facesel.config.PipelineConfig
    timer : facesel.timing.StageTimer
        Charged "alignment", "screening", "scoring", "selection".
    """

    def __init__(self, scorer, config, timer):
        if not callable(getattr(scorer, "score", None)):
            raise TypeError(f"scorer must have a score() method, got {type(scorer).__name__}")
        self.scorer = scorer
        self.config = config
        self.policy = ScoringPolicy(config)
        self.deferred = config.mode != "exhaustive" and callable(getattr(scorer, "screen", None))
        self.store = SelectionStore(config, self._full_score if self.deferred else None)
        self.timer = timer
        self._latest: dict[int, float] = {}

    def _full_score(self, greys: np.ndarray, context: CropContext) -> np.ndarray:
        self.policy.counts["scored"] += len(greys)
        return check_scores(score_crops(self.scorer, greys, context), len(greys), "scores")

    def process(self, packet: Packet) -> tuple[list[TrackView], list]:
        """Score and keep this frame's crops; returns the tracks in view and the closed results."""
        dets, update, index = packet.detections, packet.update, packet.index
        self.store.frame_shape = packet.frame.shape[:2]
        ids = np.asarray(update.track_ids, np.int64)
        wanted = self.policy.candidates(ids, dets, index)
        # A clip needs every frame's crop, valued or not; otherwise only the candidates are aligned.
        look = np.arange(len(dets)) if self.config.clip_window > 0 else wanted
        greys, crops = self._align(packet.frame, dets, look)
        self.timer.lap("alignment")
        sub = np.isin(look, wanted)  # which aligned crops are candidates
        values = np.full(len(look), np.nan)
        if sub.any():
            context = CropContext.from_detections(dets[look[sub]], packet.frame.shape, ids[look[sub]])
            if self.deferred:
                self.policy.counts["screened"] += int(sub.sum())
                values[sub] = check_scores(screen_crops(self.scorer, greys[sub], context), int(sub.sum()),
                                           "screen values")
                self.timer.lap("screening")
            else:
                values[sub] = self._full_score(greys[sub], context)
                self.timer.lap("scoring")
        views = self._keep(packet, look, sub, greys, crops, values)
        self.timer.lap("selection")
        results = self.store.finish(update)  # rescoring of the finalists happens here
        self.timer.lap("scoring")
        ended = np.concatenate([update.closed, update.dropped])
        self.policy.forget(ended)
        for track_id in ended.tolist():
            self._latest.pop(int(track_id), None)
        return views, results

    def flush(self, update) -> list:
        results = self.store.finish(update)
        self.policy.forget(np.concatenate([update.closed, update.dropped]))
        self._latest.clear()
        self.timer.lap("scoring")
        return results

    def _align(self, frame, dets: Detections, look: np.ndarray):
        greys, crops = [], {}
        for i in look.tolist():
            landmarks = None if dets.landmarks is None else dets.landmarks[i]
            if landmarks is not None and not np.isfinite(landmarks).all():
                landmarks = None
            try:
                face = align_face(frame, dets.boxes[i], landmarks, margin=self.config.margin)
            except ValueError:
                # Degenerate landmarks (all on one point): the box alone still aligns the face.
                face = align_face(frame, dets.boxes[i], None, margin=self.config.margin)
            greys.append(face.grey)
            crops[i] = face.colour
        grey = np.stack(greys) if greys else np.zeros((0, 64, 64), np.uint8)
        return grey, crops

    def _keep(self, packet, look, sub, greys, crops, values) -> list[TrackView]:
        dets, index, stamp, update = packet.detections, packet.index, packet.stamp, packet.update
        position = {int(i): k for k, i in enumerate(look.tolist())}
        views = []
        for i in range(len(dets)):
            track_id, confirmed = int(update.track_ids[i]), bool(update.confirmed[i])
            k = position.get(i)
            valued = k is not None and bool(sub[k])
            landmarks = None if dets.landmarks is None else dets.landmarks[i]
            if k is not None:
                quality = float(values[k]) if valued else None
                if valued:
                    self._latest[track_id] = quality
                    self.policy.valued(track_id, quality)
                self.store.observe(track_id, confirmed, index, stamp, crops[i], dets.boxes[i], landmarks, quality,
                                   greys[k], float(dets.scores[i]))
            else:
                self.store.log(track_id, index, stamp).seen(index, stamp, confirmed)
            best = self.store.logs[track_id].series.best
            views.append(TrackView(track_id, dets.boxes[i].copy(), confirmed, self._latest.get(track_id), best, valued))
        return views
