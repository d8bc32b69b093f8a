"""Which crops to look at, and whether their value is the full score or the cheap screen.

Measured on the arcade video (docs/architecture.md): the shipped scorer's cheap screen (the VAE
at L = 1 with z = mu_z, about 6x cheaper) ranks its crops like the full L = 10 score (Spearman
0.999 over 794 crops; the two differ by 1.3, standard deviation), and a track's best crop by the
full score is its best by the screen in 19 of 21 tracks, second in the other two. So, in the
sparse mode with a scorer that has a screen, every crop worth a look is screened, the store keeps
each track's ``finalists`` best by screen, and only those get the full score, once, when the
track closes (:class:`facesel.select.store.SelectionStore`). Without a screen every crop worth a
look is fully scored at once. Cheap gates (size, detector confidence, landmark geometry) and a
cadence decide what is worth a look: a track whose last value would not have made its finalists
("cold") is looked at on one frame in ``screen_every``, any other on every frame; the first crop of every
track is always looked at, whatever the gates say, so that every track yields a result.
"""

from __future__ import annotations

import numpy as np

from facesel.types import Detections


class ScoringPolicy:
    """Gates and cadence per track.

    Parameters
    ----------
    config : facesel.config.PipelineConfig
        ``mode == "exhaustive"`` looks at every crop; otherwise uses screen_every,
        min_score_side, min_score_confidence and max_yaw.
    """

    def __init__(self, config):
        self.exhaustive = config.mode == "exhaustive"
        self.config = config
        self._last_look: dict[int, int] = {}
        self._cold: set[int] = set()  # tracks whose last value would not have made the finalists
        self._values: dict[int, list[float]] = {}  # per track, its best ``finalists`` values so far
        self.counts = {"seen": 0, "gated": 0, "screened": 0, "aligned": 0, "scored": 0}

    def candidates(self, track_ids: np.ndarray, dets: Detections, frame_index: int) -> np.ndarray:
        """(M,) int64 indices of this frame's detections worth a look (aligned, then screened or scored)."""
        n = len(track_ids)
        self.counts["seen"] += n
        if self.exhaustive:
            return np.arange(n)
        keep = self._gates(dets)
        self.counts["gated"] += int((~keep).sum())
        chosen = []
        for i, track_id in enumerate(np.asarray(track_ids).tolist()):
            last = self._last_look.get(track_id)
            every = self.config.screen_every if track_id in self._cold else 1
            if last is None or (keep[i] and frame_index - last >= every):
                chosen.append(i)
                self._last_look[track_id] = frame_index
        return np.asarray(chosen, np.int64)

    def _gates(self, dets: Detections) -> np.ndarray:
        c = self.config
        keep = np.ones(len(dets), bool)
        if c.min_score_side > 0:
            b = dets.boxes
            keep &= np.minimum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]) >= c.min_score_side
        if c.min_score_confidence > 0:
            keep &= dets.scores >= c.min_score_confidence
        if c.max_yaw > 0 and dets.landmarks is not None:
            marks = dets.landmarks
            eyes = (marks[:, 0] + marks[:, 1]) / 2.0
            spread = np.maximum(np.linalg.norm(marks[:, 1] - marks[:, 0], axis=1), 1e-3)
            keep &= np.abs(marks[:, 2, 0] - eyes[:, 0]) / spread <= c.max_yaw
        return keep

    def valued(self, track_id: int, value: float) -> None:
        """A crop of ``track_id`` got ``value``: the track turns cold when the value would not
        have been among its ``finalists`` best so far (then it is looked at on one frame in
        ``screen_every`` only), hot otherwise (looked at on every frame)."""
        best = self._values.setdefault(track_id, [])
        if len(best) < self.config.kept_finalists or value > best[-1]:
            best.append(value)
            best.sort(reverse=True)
            del best[self.config.kept_finalists:]
            self._cold.discard(track_id)
        else:
            self._cold.add(track_id)

    def best_value(self, track_id: int) -> float | None:
        """The best value ``track_id`` had so far (None before its first)."""
        best = self._values.get(track_id)
        return best[0] if best else None

    def forget(self, track_ids) -> None:
        """Forget the cadence state of ``track_ids`` ((K,) int: closed or dropped tracks)."""
        for track_id in np.asarray(track_ids, np.int64).tolist():
            self._last_look.pop(track_id, None)
            self._values.pop(track_id, None)
            self._cold.discard(track_id)
