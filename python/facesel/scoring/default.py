"""The scorer facesel uses when none is given: the shipped VAE with its corrected scoring rule."""

from __future__ import annotations

from facesel.scoring.vae import VAEScorer


def default_scorer(**settings) -> VAEScorer:
    """``VAEScorer.default(**settings)``: the shipped weights, the model card's default method.

    ``settings`` are VAEScorer's keyword arguments (samples, seed, threads, batch_size, ...).
    """
    return VAEScorer.default(**settings)
