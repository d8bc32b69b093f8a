"""The quality model's vote on "is it a face?": the shipped VAE's best ``dose`` score over a track's finalists.

The ``dose`` rule separates held-out faces from background crops with AUROC 0.993
(``docs/model_card.md``). The vote is computed here, once per closed track, whatever scorer
picks the frames, so that a change of the selection rule does not move the faceness threshold
(:data:`facesel.select.finalise.DOSE_FACE_FLOOR` is on this rule's scale). When the pipeline's
scorer is this very rule, the best crop's quality is that score already and is used as it is.

Why the finalists and not the kept crop alone: the score of a single crop of a head that shows
no face moves a lot with its landmarks. The bald man seen from behind on the arcade video (frames
68-101) voted -46.3 through ``yuface``'s integer landmarks and -78.8 through the same network's
float landmarks (ONNX Runtime engine), against the -68 floor; his three finalists voted -78.8,
-65.7, -66.8 with the float landmarks. The face-like poster's finalists stayed below the floor on
both engines (best -74.7 and -83.3). "Is any of the track's best candidates face-like?" is the
steadier question.
"""

from __future__ import annotations

import functools

import numpy as np

from facesel.align import align_face

VOTE_METHOD = "dose"


@functools.lru_cache(maxsize=1)
def shipped_vote_model():
    """The shipped VAE with the ``dose`` rule decoded once at z = mu_z (the L = 1 cost, about a
    tenth of L = 10), loaded once per process: every Selector (one per camera, one per run of a
    benchmark) shares it instead of loading the model again.

    Why z = mu_z (issue 23, speed): on the held-out material that places the faceness floor
    (``experiments/persons_thresholds.py``: faces degraded up to severity 2/3 against 168
    background crops) its equal-error point is -67.1 with 26 % misjudged each way, against -67.6
    and 26 % at L = 10: the same vote, a tenth of the decoder passes; the floor stays -68."""
    from facesel.scoring.vae import VAEScorer

    return VAEScorer(method=VOTE_METHOD, samples=1, use_mean=True)


class DoseFaceVote:
    """``vote(result) -> float``: the best ``dose`` score of ``result.best`` and ``result.candidates``
    (the finalists, when the result has them; higher = more face-like).

    Parameters
    ----------
    margin : float
        Margin of the Selector's colour crops (fraction of the box on each side): the best crop
        is re-aligned from it, so it must be the margin the crop was cut with.
    scorer : object with ``score((N, 64, 64) uint8) -> (N,) float``, optional
        Default: the shipped VAE with the ``dose`` rule (:func:`shipped_vote_model`), loaded on the first vote.
    enough : float, optional
        Stop at the first crop (the kept one first) that scores at least this: the verdict needs
        only to know whether some finalist clears the faceness floor, and the full ``dose`` score
        costs about 12 ms a crop (one crop at a time, so that the model's working memory stays
        that of one crop). None scores every finalist.
    """

    def __init__(self, margin: float = 0.25, scorer=None, enough: float | None = None):
        if isinstance(margin, bool) or not isinstance(margin, (int, float)) or not 0 <= margin < 10:
            raise ValueError(f"margin must be a number in [0, 10), got {margin!r}")
        if enough is not None and (isinstance(enough, bool) or not isinstance(enough, (int, float))):
            raise TypeError(f"enough must be a number or None, got {enough!r}")
        self.margin = float(margin)
        self.enough = None if enough is None else float(enough)
        self._scorer = scorer

    def _model(self):
        if self._scorer is None:
            self._scorer = shipped_vote_model()
        return self._scorer

    def __call__(self, result) -> float:
        snaps = [result.best] + [c for c in getattr(result, "candidates", ()) if c is not result.best]
        best = -np.inf
        for snap in snaps:
            best = max(best, float(np.asarray(self._model().score(self._grey(snap)[None]), dtype=np.float64)[0]))
            if self.enough is not None and best >= self.enough:
                break
        return best

    def _grey(self, snap) -> np.ndarray:
        """The (64, 64) uint8 aligned grey crop of one snapshot, re-aligned from its colour crop."""
        box = np.asarray(snap.box, dtype=np.float64).reshape(4)
        # Where margin_crop put the crop's corner in the frame (facesel.align.margin_crop).
        w, h = box[2] - box[0], box[3] - box[1]
        origin = np.array([max(0.0, np.floor(box[0] - self.margin * w)), max(0.0, np.floor(box[1] - self.margin * h))])
        local_box = box - np.tile(origin, 2)
        landmarks = None if snap.landmarks is None else np.asarray(snap.landmarks, np.float64).reshape(5, 2) - origin
        if landmarks is not None and not np.isfinite(landmarks).all():
            landmarks = None
        try:
            return align_face(snap.crop, local_box, landmarks, margin=self.margin).grey
        except ValueError:
            return align_face(snap.crop, local_box, None, margin=self.margin).grey
