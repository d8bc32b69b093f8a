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
    """Per frame: which crops to align and score (:class:`ScoringPolicy`), the scorer's calls
    (one batch per frame across all tracks), and the store (:class:`SelectionStore`).

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
        self.store = SelectionStore(config)
        self.timer = timer
        self._latest: dict[int, float] = {}

    def process(self, packet: Packet) -> tuple[list[TrackView], list]:
        """Score and keep this frame's crops; returns the tracks in view and the closed results."""
        dets, update, index, stamp = packet.detections, packet.update, packet.index, packet.stamp
        ids = np.asarray(update.track_ids, np.int64)
        confirmed = np.asarray(update.confirmed, bool)
        wanted = self.policy.candidates(ids, dets, index)
        # A clip needs every frame's crop, scored or not; otherwise only the candidates are aligned.
        look = np.arange(len(dets)) if self.config.clip_window > 0 else wanted
        greys, crops = self._align(packet.frame, dets, look)
        self.timer.lap("alignment")
        sub = np.isin(look, wanted)  # which aligned crops are candidates
        context = CropContext.from_detections(dets[look[sub]], packet.frame.shape, ids[look[sub]])
        screen = None
        if sub.any() and not self.policy.exhaustive:
            screen = screen_crops(self.scorer, greys[sub], context)
            screen = None if screen is None else check_scores(screen, int(sub.sum()), "screen values")
        self.timer.lap("screening")
        chosen = np.zeros(len(look), bool)
        if sub.any():
            chosen[sub] = self.policy.to_score(ids[look[sub]], screen, index, stamp)
        scores = np.full(len(look), np.nan)
        screens = np.full(len(look), np.nan)
        if screen is not None:
            screens[sub] = screen
        if chosen.any():
            picked = chosen[sub]
            scores[chosen] = check_scores(score_crops(self.scorer, greys[chosen], context[picked]),
                                          int(chosen.sum()), "scores")
        self.timer.lap("scoring")
        views = self._keep(packet, ids, confirmed, look, crops, chosen, scores, None if screen is None else screens)
        results = self.store.finish(update)
        self.policy.forget(np.concatenate([update.closed, update.dropped]))
        for track_id in np.concatenate([update.closed, update.dropped]).tolist():
            self._latest.pop(int(track_id), None)
        self.timer.lap("selection")
        return views, results

    def flush(self, update) -> list:
        results = self.store.finish(update)
        self.policy.forget(np.concatenate([update.closed, update.dropped]))
        self._latest.clear()
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

    def _keep(self, packet, ids, confirmed, look, crops, chosen, scores, screen) -> list[TrackView]:
        dets, index, stamp = packet.detections, packet.index, packet.stamp
        position = {int(i): k for k, i in enumerate(look.tolist())}
        views = []
        for i in range(len(dets)):
            track_id = int(ids[i])
            k = position.get(i)
            scored = k is not None and bool(chosen[k])
            landmarks = None if dets.landmarks is None else dets.landmarks[i]
            if scored:
                quality = float(scores[k])
                self.policy.scored(track_id, quality, None if screen is None else float(screen[k]))
                self._latest[track_id] = quality
                self.store.observe(track_id, bool(confirmed[i]), index, stamp, crops[i], dets.boxes[i], landmarks, quality)
            elif k is not None and self.config.clip_window > 0:
                self.store.observe(track_id, bool(confirmed[i]), index, stamp, crops[i], dets.boxes[i], landmarks, None)
            else:
                self.store.log(track_id, index, stamp).seen(index, stamp, bool(confirmed[i]))
            views.append(TrackView(track_id, dets.boxes[i].copy(), bool(confirmed[i]), self._latest.get(track_id),
                                   self.policy.best(track_id), scored))
        return views
