"""The VAE quality scorers, as evaluation methods, built only when this installation has them.

The scorer lives in :mod:`facesel.scoring` (another part of the project). When it, or the model it
needs, is missing, :class:`facesel.eval.methods.MethodUnavailable` carries the reason into the
report instead of a number.
"""

from __future__ import annotations

from facesel.eval.methods import MethodUnavailable

# Constructor settings per evaluated variant.
# "default" is the shipped model card's default (corrected) rule; the ablations keep the paper's
# L = 10 except where L is the thing varied, so that one setting changes at a time.
VAE_SETTINGS = {
    "default": {"samples": 10},
    "paper": {"method": "paper", "samples": 10},
    "paper-L1": {"method": "paper", "samples": 1, "use_mean": True},
    "recon-error": {"method": "recon_error", "samples": 10},
}


def make_vae_scorer(label: str, model_dir=None):
    """A VAE scorer for the variant ``label`` (a key of :data:`VAE_SETTINGS`).

    ``model_dir`` is a folder with ``encoder.onnx``, ``decoder.onnx`` and ``model_card.json``; None
    takes the model shipped in the package.
    """
    if label not in VAE_SETTINGS:
        raise ValueError(f"label must be one of {sorted(VAE_SETTINGS)}, got {label!r}")
    try:
        from facesel.scoring import VAEScorer
    except ImportError as err:
        raise MethodUnavailable(f"facesel.scoring.VAEScorer is not in this installation ({err})") from err
    settings = VAE_SETTINGS[label]
    try:
        return VAEScorer(model_dir, **settings)
    except (FileNotFoundError, RuntimeError, ValueError, TypeError) as err:
        raise MethodUnavailable(f"VAEScorer({settings}) could not be built: {err}") from err
