"""The VAE quality scorers, as evaluation methods, built only when this installation has them.

The scorer lives in :mod:`facesel.scoring` (another part of the project). When it, or the model it
needs, is missing, :class:`facesel.eval.method_context.MethodUnavailable` carries the reason into the
report instead of a number.

Speed: the VAE variants that differ only in the scoring rule (the default rule, the paper's log
reconstruction probability, the reconstruction error; all at L = 10 with one seed) see exactly the
same decoder outputs, because VAEScorer draws its latent noise from (seed, crop bytes). The decoder
is 90 % or more of the cost, so :class:`SharedVAEOutputs` runs it once per batch and applies every
requested rule to those outputs. A test holds it equal to ``VAEScorer(method=...).score``.
"""

from __future__ import annotations

import hashlib

import numpy as np

from facesel.eval.method_context import MethodUnavailable

# "default" is the shipped model card's default (corrected) rule, "dose" the previous default; the ablations keep the paper's
# L = 10 except where L is the thing varied, so that one setting changes at a time.
VAE_SETTINGS = {
    "default": {"samples": 10},
    "dose": {"method": "dose", "samples": 10},
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


class SharedVAEOutputs:
    """Scores several rules of one VAE scorer setting from one decoder pass per batch.

    Parameters
    ----------
    scorer : facesel.scoring.VAEScorer
        Gives the model, L, use_mean, seed, batch size and calibration; its ``method`` is ignored.
    """

    def __init__(self, scorer) -> None:
        self.scorer = scorer
        self.rules: list[str] = []
        self._memo: dict = {}

    def add_rule(self, rule: str) -> None:
        """Also compute ``rule`` (a name of :data:`facesel.scoring.vae_methods.METHODS`) in the
        shared pass; ValueError for an unknown name.
        """
        from facesel.scoring.vae_methods import METHODS

        if rule not in METHODS:
            raise ValueError(f"rule must be one of {sorted(METHODS)}, got {rule!r}")
        if rule not in self.rules:
            self.rules.append(rule)
            self._memo.clear()  # a new rule needs a new pass

    def score(self, crops: np.ndarray, rule: str) -> np.ndarray:
        """(N, 64, 64) uint8 -> (N,) float64 under ``rule`` (which must have been added)."""
        from facesel.scoring import as_grey_batch
        from facesel.scoring.vae_methods import METHODS

        if rule not in self.rules:
            raise ValueError(f"rule {rule!r} was not added; added: {self.rules}")
        crops = as_grey_batch(crops)
        key = hashlib.sha256(crops.tobytes()).hexdigest() + str(crops.shape)
        if key not in self._memo:
            rules, calibration = list(self.rules), self.scorer.calibration
            table = self.scorer.run_batches(
                crops, lambda outputs, chunk: np.stack([METHODS[r](outputs, chunk, calibration) for r in rules], axis=1),
                columns=len(rules),
            )
            # keep only the latest crops: scores, not decoder outputs
            self._memo = {key: {r: table[:, k] for k, r in enumerate(rules)}}
        return self._memo[key][rule].copy()
