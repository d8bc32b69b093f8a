"""How far a run's choice of snapshots agrees with the exhaustive yardstick's.

The exhaustive mode scores every detected face of every frame, so each of its tracks carries the
full score of every observation. A cheaper run's kept crop is placed among them: its track is the
exhaustive track whose box overlaps the kept crop's box on the kept crop's frame, and its rank is
the fraction of that track's exhaustive scores above the kept crop's own score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facesel.boxes import pairwise_iou


@dataclass
class Agreement:
    """Attributes
    ----------
    tracks, reference_tracks : int
        Results of the run and of the exhaustive run.
    ranks : (M,) float64
        For each matched result, the fraction of its exhaustive track's scores above its kept
        crop's score (0: at least as good as the exhaustive best).
    unmatched : int
        Results whose kept crop overlaps no exhaustive track on its frame.
    """

    tracks: int
    reference_tracks: int
    ranks: np.ndarray
    unmatched: int

    @property
    def track_ratio(self) -> float:
        return self.tracks / max(1, self.reference_tracks)

    def share_within(self, top: float = 0.1) -> float:
        """Share of all results whose kept crop is within the top ``top`` of its exhaustive
        track's scores (unmatched results count as outside)."""
        return float((self.ranks <= top).sum()) / max(1, self.tracks)


def agreement(results, reference, min_iou: float = 0.3) -> Agreement:
    """Compare ``results`` with ``reference`` (both lists of SelectedTrack; the reference from
    ``mode="exhaustive"``, whose ``boxes`` and ``qualities`` cover every observation)."""
    ranks, unmatched = [], 0
    for result in results:
        best = result.best
        candidates = []
        for ref in reference:
            at = np.flatnonzero(np.asarray(ref.frame_indices) == best.frame_index)
            if len(at):
                iou = float(pairwise_iou(best.box[None], ref.boxes[at[0]][None])[0, 0])
                if iou >= min_iou:
                    candidates.append((iou, ref))
        if not candidates:
            unmatched += 1
            continue
        ref = max(candidates, key=lambda c: c[0])[1]
        scores = np.asarray(ref.qualities, np.float64)
        ranks.append(float((scores > best.quality).mean()))
    return Agreement(len(results), len(reference), np.asarray(ranks, np.float64), unmatched)
