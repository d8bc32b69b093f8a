"""Which crops to score: cheap gates, a per-track budget, and the screen before the full score.

Measured on the arcade video (docs/architecture.md): the shipped scorer's cheap screen (the VAE
at L = 1 with z = mu_z, about 6x cheaper) ranks its crops like the full L = 10 score (Spearman
0.999 over 794 crops; the two differ by 1.3 (standard deviation)), and a track's
best crop is its screen's best in 19 of 21 tracks (second in the other two). So a crop is fully
scored only when its screen value comes within ``screen_margin`` of the screen value of its
track's best so far. Consecutive frames of a face barely differ, so a track whose last screen
was far below its best is screened again only ``screen_every`` frames later; one whose last
screen came close ("hot") is screened on the next frame too. The first crop of every track is always scored fully, whatever the
gates say, so that every track yields a result.
"""

from __future__ import annotations

import numpy as np

from facesel.types import Detections

_BURST = 2.0


class _TrackState:
    __slots__ = ("best_full", "best_screen", "last_screened", "hot", "tokens", "last_stamp")

    def __init__(self):
        self.hot = True
        self.best_full = None
        self.best_screen = None
        self.last_screened = -(1 << 62)
        self.tokens = _BURST
        self.last_stamp = None


class ScoringPolicy:
    """The per-track state behind the decision to screen and to score.

    Parameters
    ----------
    config : facesel.config.PipelineConfig
        ``mode == "exhaustive"`` scores every crop fully; otherwise uses screen_margin,
        screen_every, full_per_second, min_score_side, min_score_confidence and max_yaw.
    """

    def __init__(self, config):
        self.exhaustive = config.mode == "exhaustive"
        self.config = config
        self._tracks: dict[int, _TrackState] = {}
        self.counts = {"seen": 0, "gated": 0, "screened": 0, "scored": 0}

    def _state(self, track_id: int) -> _TrackState:
        state = self._tracks.get(track_id)
        if state is None:
            state = self._tracks[track_id] = _TrackState()
        return state

    def candidates(self, track_ids: np.ndarray, dets: Detections, frame_index: int) -> np.ndarray:
        """Indices of this frame's detections worth a look (aligned, then screened or scored)."""
        n = len(track_ids)
        self.counts["seen"] += n
        if self.exhaustive:
            return np.arange(n)
        keep = self._gates(dets)
        chosen = []
        for i, track_id in enumerate(np.asarray(track_ids).tolist()):
            state = self._state(track_id)
            if state.best_full is None:
                chosen.append(i)  # a track's first crop: always, so that every track has a result
            elif keep[i] and (state.hot or frame_index - state.last_screened >= self.config.screen_every):
                chosen.append(i)
        self.counts["gated"] += int((~keep).sum())
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

    def to_score(self, track_ids, screen: np.ndarray | None, frame_index: int, stamp: float) -> np.ndarray:
        """(M,) bool: which of the screened candidates get the full score.

        Parameters
        ----------
        track_ids : (M,) int64
            Track of each candidate.
        screen : (M,) float64 or None
            Screen values (None: the scorer has no screen, so every candidate is scored).
        """
        track_ids = np.asarray(track_ids, np.int64).tolist()
        if self.exhaustive or screen is None:
            for track_id in track_ids:
                self._state(track_id).last_screened = frame_index
            return np.ones(len(track_ids), bool)
        self.counts["screened"] += len(track_ids)
        out = np.zeros(len(track_ids), bool)
        for i, track_id in enumerate(track_ids):
            state = self._state(track_id)
            state.last_screened = frame_index
            self._refill(state, stamp)
            # A crop near its track's best makes the track "hot": screened again on the next
            # frame, since a face getting better tends to keep getting better for a few frames.
            state.hot = state.best_full is None or screen[i] >= state.best_screen - self.config.screen_margin
            if state.best_full is None:
                out[i] = True
            elif state.hot and state.tokens >= 1.0:
                out[i] = True
                if self.config.full_per_second > 0:
                    state.tokens -= 1.0
        return out

    def _refill(self, state: _TrackState, stamp: float) -> None:
        if state.last_stamp is not None and self.config.full_per_second > 0:
            state.tokens = min(_BURST, state.tokens + (stamp - state.last_stamp) * self.config.full_per_second)
        state.last_stamp = stamp

    def scored(self, track_id: int, quality: float, screen_value: float | None) -> None:
        """Record a full score (``screen_value``: the same crop's screen value, when screened)."""
        self.counts["scored"] += 1
        state = self._state(track_id)
        if state.best_full is None or quality > state.best_full:
            state.best_full = quality
            state.best_screen = quality if screen_value is None else screen_value

    def best(self, track_id: int) -> float | None:
        state = self._tracks.get(track_id)
        return None if state is None else state.best_full

    def forget(self, track_ids) -> None:
        for track_id in np.asarray(track_ids, np.int64).tolist():
            self._tracks.pop(track_id, None)
