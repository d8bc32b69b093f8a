"""PickScorer: the selection rule facesel uses to choose one crop per track.

The VAE's verdict on the crop (the ``dose`` rule of :mod:`facesel.scoring.vae_methods`: how far the
statistics of the VAE's reconstruction lie from clean training faces') plus free signals the
detector already gave: the head pose from the five landmarks (:func:`facesel.scoring.pose.frontalness`)
and the detector's confidence. Unsupervised at run time: no recognition model; the two weights
were chosen on the shared videos leave-one-video-out (``training/experiments/track_signals.py``,
docs/model_card.md "Within a track").

Why: within one track every crop shows the same person, so what separates a usable frame from an
unusable one is mostly pose and expression, which the VAE's density of clean faces does not
penalise enough (a turned, well lit face is a typical face), and which the landmarks measure
directly.
"""

from __future__ import annotations

import numbers

import numpy as np

from facesel.scoring.base import as_grey_batch
from facesel.scoring.pose import frontalness

PICK_WEIGHTS = {"frontal": 36.0, "detector": 0.0}
"""Weight of each context signal, in units of the dose score (see docs/model_card.md)."""


def _check_weights(weights) -> dict:
    if not isinstance(weights, dict):
        raise TypeError(f"weights must be a dict of signal -> weight, got {type(weights).__name__}")
    unknown = sorted(set(weights) - set(PICK_WEIGHTS))
    if unknown:
        raise ValueError(f"weights has unknown signals {unknown}; known: {sorted(PICK_WEIGHTS)}")
    out = dict(PICK_WEIGHTS)
    for k, v in weights.items():
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not np.isfinite(v) or v < 0:
            raise ValueError(f"weights[{k!r}] must be a finite number >= 0, got {v!r}")
        out[k] = float(v)
    return out


class PickScorer:
    """VAE quality (dose) + pose + detector confidence: facesel's default selection rule.

    Parameters
    ----------
    weights : dict, optional
        Per context signal (``"frontal"``, ``"detector"``), its weight in dose units; default
        :data:`PICK_WEIGHTS`.
    **vae_settings
        Keyword arguments of :class:`facesel.scoring.VAEScorer` for the full score (samples, seed,
        threads, batch_size, device, model_dir as ``model_dir=``); the method is always ``dose``.

    Notes
    -----
    ``score(crops, context)``: dose at L = 10 (the VAE's default) plus the weighted context signals.
    Without a context (a still photo, ``facesel score``) it is the dose score alone, so on photos it
    ranks exactly like the previous default. ``screen(crops, context)``: the same sum with dose at
    L = 1, z = mu_z (one decoder pass instead of ten), for a cheap first ranking; it orders crops
    like ``score`` up to the latent noise (measured in docs/model_card.md).
    The frontal term is clipped at -1 (a face in profile has about -0.25): a crop with degenerate
    landmarks gets -1, not -inf, so that it still ranks by the VAE. A context without landmarks
    adds no frontal term (it would be the same for every crop).
    """

    uses_context = True

    def __init__(self, weights: dict | None = None, **vae_settings) -> None:
        from facesel.scoring.vae import VAEScorer

        if "method" in vae_settings:
            raise TypeError("PickScorer always uses the dose rule; for another VAE rule use VAEScorer(method=...)")
        self.weights = _check_weights({} if weights is None else weights)
        model_dir = vae_settings.pop("model_dir", None)
        self.vae = VAEScorer(model_dir, method="dose", **vae_settings)
        screen_settings = {k: v for k, v in vae_settings.items() if k not in ("samples", "use_mean")}
        self._screen_vae = VAEScorer(model_dir, method="dose", samples=1, use_mean=True, **screen_settings)
        self.name = "pick"

    def context_terms(self, context, n: int) -> np.ndarray:
        """(n,) float64: the weighted context signals (zeros when ``context`` is None)."""
        if context is None:
            return np.zeros(n, np.float64)
        if len(context) != n:
            raise ValueError(f"context has {len(context)} entries for {n} crops")
        total = np.zeros(n, np.float64)
        if self.weights["frontal"] and context.landmarks is not None:
            f = frontalness(context.landmarks)
            # profile (nose at an eye, yaw 0.5) is the worst pose a detector reports
            total += self.weights["frontal"] * np.where(np.isfinite(f), np.maximum(f, -1.0), -1.0)
        if self.weights["detector"]:
            total += self.weights["detector"] * context.det_scores.astype(np.float64)
        return total

    def score(self, crops: np.ndarray, context=None) -> np.ndarray:
        """(N, 64, 64) uint8 grey crops (+ optional CropContext) -> (N,) float64, higher is better."""
        crops = as_grey_batch(crops)
        return self.vae.score(crops) + self.context_terms(context, len(crops))

    def screen(self, crops: np.ndarray, context=None) -> np.ndarray:
        """The cheap ranking pass: like :meth:`score` with the VAE at L = 1, z = mu_z."""
        crops = as_grey_batch(crops)
        return self._screen_vae.score(crops) + self.context_terms(context, len(crops))

    def __repr__(self) -> str:
        return f"PickScorer(weights={self.weights}, vae={self.vae!r})"
