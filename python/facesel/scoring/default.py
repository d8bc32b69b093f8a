"""The scorer facesel uses when none is given: PickScorer's context rule within a track (pose,
detector confidence, size: no VAE pass per crop), the VAE's stills rule (``dose_flat``, the model
card's default method) for a photograph without a video's context, and the earlier rules kept as
settings."""

from __future__ import annotations

import numpy as np

from facesel.scoring.base import as_grey_batch
from facesel.scoring.vae import VAEScorer
from facesel.scoring.vae_methods import METHODS

RULES = ("context", "pick", "gate", "dose", "paper")
"""``default_scorer(rule=...)``: ``context`` (the default: PickScorer's context terms alone, pose,
detector confidence, size; no VAE pass within a track, ``dose`` without a context), ``pick``
(the previous default: the same terms plus the VAE's eye band and dose, one VAE pass per crop),
``gate`` (:class:`facesel.scoring.gate.GateScorer`:
a confident upright crop first, parameters chosen leave-one-source-out on the shared clips),
``dose`` (the VAE's stills rule alone, the model card's ``default_method``: ``dose_flat``; the
previous one is ``VAEScorer(method="dose")``), ``paper`` (the paper's log RP)."""


class ScreenedVAEScorer(VAEScorer):
    """:class:`VAEScorer` with the cheap screen of :func:`facesel.scoring.base.screen_crops`.

    ``screen`` runs the same sessions and scoring rule once per crop with z = mu_z (L = 1):
    measured on the 794 YuNet crops of the arcade video, 6x cheaper than L = 10 (4.7 against
    28 ms a crop), Spearman 0.999 with the full score; their difference has a standard
    deviation of 1.3 (dose units).
    """

    def screen(self, crops: np.ndarray, context=None) -> np.ndarray:
        """(N, 64, 64) uint8 grey crops -> (N,) float64, an estimate of :meth:`score`."""
        rule = METHODS[self.method]
        return self.run_batches(as_grey_batch(crops), lambda outputs, chunk: rule(outputs, chunk, self.calibration),
                                samples=1, use_mean=True)


def default_scorer(rule: str = "context", **settings):
    """The default scorer, or one of the earlier rules kept as settings.

    Why ``context`` is the default (issue 22, ``docs/eval/tracks/tracks.md``): over 129 windows of
    40 clips from 10 sources, the VAE terms of ``pick`` made the within-track pick worse, not
    better (smoothed regret ``pick - context`` +0.005 [-0.001, +0.013], clip-grouped; +0.006
    [-0.001, +0.016] on the 35 clips never used to fit the weights) while costing about 2,700x
    the context terms' CPU per crop. The VAE stays where it is measured to earn: the not-a-face vote
    of :class:`facesel.select.face_vote.DoseFaceVote` and photographs (no context: the stills rule,
    ``dose_flat``).

    Parameters
    ----------
    rule : {"context", "pick", "gate", "dose", "paper"}
        ``context`` (default): :class:`facesel.scoring.pick.PickScorer` with its VAE weights at 0
        (``uses_context = True``: the Selector passes the detector's context and no VAE runs;
        without a context it scores like ``dose``). ``pick``: the same PickScorer with the VAE's
        eye band and dose terms (one encoder + decoder pass per crop). ``gate``:
        :class:`facesel.scoring.gate.GateScorer` (context only; ``dose`` without one). ``dose``:
        :class:`ScreenedVAEScorer` with the model card's default method (``VAEScorer.default()``
        plus a cheap screen). ``paper``: ``VAEScorer.paper()``.
    **settings
        VAEScorer's keyword arguments (samples, seed, threads, batch_size, ...); for ``pick`` also
        ``weights``, for ``gate`` also ``params`` (a GateParams).
    """
    if rule == "pick":
        from facesel.scoring.pick import PickScorer

        return PickScorer(**settings)
    if rule == "context":
        from facesel.scoring.pick import PickScorer

        weights = {"dose": 0.0, "eyes": 0.0, "eyes_relative": 0.0, **settings.pop("weights", {})}
        return PickScorer(weights=weights, **settings)
    if rule == "gate":
        from facesel.scoring.gate import GateScorer

        return GateScorer(**settings)
    if rule == "dose":
        return ScreenedVAEScorer.default(**settings)
    if rule == "paper":
        return VAEScorer.paper(**settings)
    raise ValueError(f"rule must be one of {', '.join(RULES)}, got {rule!r}")
