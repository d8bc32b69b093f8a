"""The quality model's vote on "is it a face?": the shipped VAE's ``dose`` score of a track's best crop.

The ``dose`` rule separates held-out faces from background crops with AUROC 0.993
(``docs/model_card.md``). The vote is computed here, once per closed track, whatever scorer
picks the frames, so that a change of the selection rule does not move the faceness threshold
(:data:`facesel.select.finalise.DOSE_FACE_FLOOR` is on this rule's scale). When the pipeline's
scorer is this very rule, the best crop's quality is that score already and is used as it is.
"""

from __future__ import annotations

import functools

import numpy as np

from facesel.align import align_face

VOTE_METHOD = "dose"


@functools.lru_cache(maxsize=1)
def shipped_vote_model():
    """The shipped VAE with the ``dose`` rule, loaded once per process: every Selector (one per
    camera, one per run of a benchmark) shares it instead of loading the model again."""
    from facesel.scoring.vae import VAEScorer

    return VAEScorer(method=VOTE_METHOD)


class DoseFaceVote:
    """``vote(result) -> float``: the ``dose`` score of ``result.best`` (higher = more face-like).

    Parameters
    ----------
    margin : float
        Margin of the Selector's colour crops (fraction of the box on each side): the best crop
        is re-aligned from it, so it must be the margin the crop was cut with.
    scorer : object with ``score((N, 64, 64) uint8) -> (N,) float``, optional
        Default: the shipped VAE with the ``dose`` rule (:func:`shipped_vote_model`), loaded on the first vote.
    """

    def __init__(self, margin: float = 0.25, scorer=None):
        if isinstance(margin, bool) or not isinstance(margin, (int, float)) or not 0 <= margin < 10:
            raise ValueError(f"margin must be a number in [0, 10), got {margin!r}")
        self.margin = float(margin)
        self._scorer = scorer

    def _model(self):
        if self._scorer is None:
            self._scorer = shipped_vote_model()
        return self._scorer

    def __call__(self, result) -> float:
        snap = result.best
        box = np.asarray(snap.box, dtype=np.float64).reshape(4)
        # Where margin_crop put the crop's corner in the frame (facesel.align.margin_crop).
        w, h = box[2] - box[0], box[3] - box[1]
        origin = np.array([max(0.0, np.floor(box[0] - self.margin * w)), max(0.0, np.floor(box[1] - self.margin * h))])
        local_box = box - np.tile(origin, 2)
        landmarks = None if snap.landmarks is None else np.asarray(snap.landmarks, np.float64).reshape(5, 2) - origin
        if landmarks is not None and not np.isfinite(landmarks).all():
            landmarks = None
        try:
            grey = align_face(snap.crop, local_box, landmarks, margin=self.margin).grey
        except ValueError:
            grey = align_face(snap.crop, local_box, None, margin=self.margin).grey
        return float(np.asarray(self._model().score(grey[None]), dtype=np.float64)[0])
