"""How far a run's choice of snapshots agrees with the exhaustive yardstick's.

The exhaustive mode scores every detected face of every frame, so each of its tracks carries the
full score of every observation. A cheaper run's kept crop is placed among them: its track's
counterpart is the exhaustive track whose boxes overlap the track's boxes (IoU >= ``min_iou``) on
the most shared frames, and its rank is the fraction of that exhaustive track's scores above the
kept crop's own score. (Matching on the kept crop's frame alone leaves a crop unmatched whenever
the exhaustive detector missed that face on that one frame.)
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
        Results whose track overlaps no exhaustive track on any frame.
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
    """Compare ``results`` with ``reference`` (both lists of SelectedTrack, or objects with their
    ``frame_indices``, ``boxes``, ``qualities`` and ``best.quality``; the reference from
    ``mode="exhaustive"``, whose ``boxes`` and ``qualities`` cover every observation)."""
    ranks, unmatched = [], 0
    for result in results:
        frames = {int(f): k for k, f in enumerate(np.asarray(result.frame_indices).tolist())}
        best_ref, best_shared = None, 0
        for ref in reference:
            shared = [(frames[int(f)], j) for j, f in enumerate(np.asarray(ref.frame_indices).tolist())
                      if int(f) in frames]
            if not shared:
                continue
            mine, theirs = zip(*shared)
            iou = np.diag(pairwise_iou(np.asarray(result.boxes)[list(mine)], np.asarray(ref.boxes)[list(theirs)]))
            count = int((iou >= min_iou).sum())
            if count > best_shared:
                best_ref, best_shared = ref, count
        if best_ref is None:
            unmatched += 1
            continue
        scores = np.asarray(best_ref.qualities, np.float64)
        ranks.append(float((scores > result.best.quality).mean()))
    return Agreement(len(results), len(reference), np.asarray(ranks, np.float64), unmatched)
