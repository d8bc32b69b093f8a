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
        Stop once a crop scores at least this: the verdict needs only to know whether some
        finalist clears the faceness floor. None scores every finalist.
    known : object with ``get((64, 64) uint8) -> float or None``, optional
        Scores of this rule the pipeline computed already, by crop
        (:class:`facesel.scoring.score_memo.ScoreMemo`; the pick rule's ``dose_memo``): a crop found
        there is not scored again. Only for scores of the same rule and sessions as ``scorer``.

    How it spends (issue 23, speed; ``experiments/persons_costs.py``): each distinct crop is
    aligned once, and a crop shown by two snapshots (the same pixels) is scored once. With
    ``enough``, the crops are tried in the order of the highest score each could still reach
    (:func:`facesel.scoring.vae_methods.mahalanobis_ceiling`, from two statistics of the crop
    alone, tens of microseconds) when the scorer carries a ``dose`` calibration, else kept crop
    first: the most promising crop is scored first (in one batch with those of the other tracks
    judged at the same time, :meth:`vote_many`), and if it does not clear ``enough``, every other
    crop in one more batch (a batch of n costs about 4.9 ms a crop at L = 1 against 7.3 ms one by
    one). A crop whose score ``known`` holds is not scored at all. The verdict is that of scoring
    every crop (a crop clears or not whatever the order); the value returned for a track that
    clears is the first clearing crop's, not always the best one's. Without ``enough`` every crop
    is scored in one batch. The VAE scores a crop the same in any
    batch (per-crop noise; ``tests/test_face_vote.py`` checks it on real crops).
    """

    def __init__(self, margin: float = 0.25, scorer=None, enough: float | None = None, known=None):
        if isinstance(margin, bool) or not isinstance(margin, (int, float)) or not 0 <= margin < 10:
            raise ValueError(f"margin must be a number in [0, 10), got {margin!r}")
        if enough is not None and (isinstance(enough, bool) or not isinstance(enough, (int, float))):
            raise TypeError(f"enough must be a number or None, got {enough!r}")
        if known is not None and not callable(getattr(known, "get", None)):
            raise TypeError(f"known must have a get(crop) method or be None, got {type(known).__name__}")
        self.margin = float(margin)
        self.enough = None if enough is None else float(enough)
        self.known = known
        self._scorer = scorer

    def _model(self):
        if self._scorer is None:
            self._scorer = shipped_vote_model()
        return self._scorer

    def __call__(self, result) -> float:
        return self.vote_many([result])[0]

    def vote_many(self, results) -> list[float]:
        """The votes of several results (tracks judged at once, e.g. at the end of a stream) with
        the scorer called at most twice in all: the most promising unknown crop of every track in
        one batch, then every other unknown crop of the tracks that have not cleared ``enough``
        in a second (without ``enough``: every unknown crop in one batch). Each vote is the one
        :meth:`__call__` gives the result alone."""
        greys = [self.greys(result) for result in results]
        scores = [self._known_scores(g) for g in greys]
        todo = [np.flatnonzero(np.isnan(s)) for s in scores]
        if self.enough is None:
            self._score_into(greys, scores, todo)
            return [_best(s) for s in scores]
        # a track with a known crop that clears needs nothing more (len(t) < len(s): some are known)
        todo = [t[self.order(g[t])] if len(t) and (len(t) == len(s) or _best(s) < self.enough) else t[:0]
                for g, s, t in zip(greys, scores, todo)]
        self._score_into(greys, scores, [t[:1] for t in todo])
        self._score_into(greys, scores, [t[1:] if _best(s) < self.enough else t[:0] for s, t in zip(scores, todo)])
        return [_best(s) for s in scores]

    def _known_scores(self, greys: np.ndarray) -> np.ndarray:
        """(M,) float64: the scores ``known`` holds for these crops, NaN where it holds none."""
        scores = np.full(len(greys), np.nan)
        if self.known is not None:
            for k, grey in enumerate(greys):
                value = self.known.get(grey)
                scores[k] = np.nan if value is None else value
        return scores

    def _score_into(self, greys: list, scores: list, which: list) -> None:
        """Score ``greys[i][which[i]]`` for every i in one call of the scorer, into ``scores[i]``."""
        batch = [g[w] for g, w in zip(greys, which) if len(w)]
        if not batch:
            return
        values = self._score(np.concatenate(batch))
        start = 0
        for s, w in zip(scores, which):
            s[w] = values[start : start + len(w)]
            start += len(w)

    def _score(self, greys: np.ndarray) -> np.ndarray:
        """(n,) float64 scores of (n, 64, 64) uint8 crops, in one call of the scorer."""
        return np.asarray(self._model().score(greys), dtype=np.float64).reshape(len(greys))

    def greys(self, result) -> np.ndarray:
        """(M, 64, 64) uint8: the aligned grey crop of ``result.best`` then of each finalist, each
        distinct crop once (two snapshots of one observation give the same pixels)."""
        snaps = [result.best] + [c for c in getattr(result, "candidates", ()) if c is not result.best]
        distinct: dict[bytes, np.ndarray] = {}
        for snap in snaps:
            grey = self._grey(snap)
            distinct.setdefault(grey.tobytes(), grey)
        return np.stack(list(distinct.values()))

    def order(self, greys: np.ndarray) -> np.ndarray:
        """(M,) int: the order in which to try the crops, highest attainable ``dose`` score first
        (ties and scorers without a ``dose`` calibration: the order given, kept crop first)."""
        from facesel.scoring.vae_methods import mahalanobis_ceiling

        ceiling = None
        calibration = getattr(self._model(), "calibration", None)
        if isinstance(calibration, dict) and getattr(self._model(), "method", VOTE_METHOD) == VOTE_METHOD:
            ceiling = mahalanobis_ceiling(greys, calibration, VOTE_METHOD)
        if ceiling is None:
            return np.arange(len(greys))
        return np.argsort(-ceiling, kind="stable")

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


def _best(scores: np.ndarray) -> float:
    """The highest of the scores known so far (NaN: not scored), -inf when none is."""
    scores = scores[~np.isnan(scores)]
    return float(scores.max()) if len(scores) else -np.inf
