"""How far a run's choice of snapshots agrees with the exhaustive yardstick's.

The exhaustive mode scores every detected face of every frame, so each of its tracks carries the
full score of every observation. A cheaper run's kept crop is placed among them: its track's
counterpart is the exhaustive track whose boxes overlap the track's boxes (IoU >= ``min_iou``) on
the most shared frames, and its rank is the fraction of that exhaustive track's scores above the
kept crop's own score. (Matching on the kept crop's frame alone leaves a crop unmatched whenever
the exhaustive detector missed that face on that one frame.)

With ``by="frame"`` the kept crop is placed by the exhaustive run's own score of the kept FRAME
(its track's observation on that frame, when the exhaustive detector found the face there; else
the kept crop's own score). This is the comparison for a scorer that reads the detector's context
(``uses_context``, e.g. the shipped ``PickScorer``: confidence, landmarks, box): a face found by
the sparse mode's region search carries another confidence and other landmarks than the same face
found on the whole frame, so its score is not on the same footing as the exhaustive scores, while
the question "was a frame among the track's best chosen" is answered by scoring both the same way.
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
        """Tracks of this run over the reference (exhaustive) run's tracks."""
        return self.tracks / max(1, self.reference_tracks)

    def share_within(self, top: float = 0.1) -> float:
        """Share of all results whose kept crop is within the top ``top`` of its exhaustive
        track's scores (unmatched results count as outside)."""
        return float((self.ranks <= top).sum()) / max(1, self.tracks)


def agreement(results, reference, min_iou: float = 0.3, by: str = "value") -> Agreement:
    """Compare ``results`` with ``reference`` (both lists of SelectedTrack, or objects with their
    ``frame_indices``, ``boxes``, ``qualities`` and ``best.quality``, ``best.frame_index``; the
    reference from ``mode="exhaustive"``, whose ``boxes`` and ``qualities`` cover every
    observation). ``by``: "value" ranks the kept crop's own score, "frame" the reference's score of
    the kept frame (see the module docstring)."""
    if by not in ("value", "frame"):
        raise ValueError(f"by must be 'value' or 'frame', got {by!r}")
    ranks, unmatched = [], 0
    for result in results:
        best_ref = counterpart(result, reference, min_iou)
        if best_ref is None:
            unmatched += 1
            continue
        scores = np.asarray(best_ref.qualities, np.float64)
        kept = result.best.quality
        if by == "frame":
            same = np.flatnonzero(np.asarray(best_ref.frame_indices) == result.best.frame_index)
            kept = float(scores[same[0]]) if len(same) else kept
        ranks.append(float((scores > kept).mean()))
    return Agreement(len(results), len(reference), np.asarray(ranks, np.float64), unmatched)


def counterpart(result, reference, min_iou: float = 0.3):
    """The track of ``reference`` whose boxes overlap ``result``'s (IoU >= ``min_iou``) on the most
    shared frames (the first such on ties), or None when none overlaps on any frame: the exhaustive
    track a run's result is judged against (:func:`agreement`)."""
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
    return best_ref
