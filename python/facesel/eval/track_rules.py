"""The selection rules ``facesel eval tracks`` compares, by name.

A rule is built once and called as ``rule(crops (N, 64, 64) uint8, context CropContext) -> (N,)
float64`` quality, higher is better; it is applied to each track's crops on their own (so a
track-relative rule sees one track at a time). Scorers go through
:func:`facesel.scoring.score_crops`, so that a scorer that declares ``uses_context`` gets the
crops' context, exactly as the Selector calls it. The random pick is not a rule: the metrics add
its exact expectation to every table.

``register_rule`` adds a rule; a rule named ``module:attribute`` on the command line is imported
(an object with ``score`` or a zero-argument factory returning one).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

import numpy as np

RuleFn = Callable[[np.ndarray, object], np.ndarray]

_BUILDERS: dict[str, tuple[str, Callable[[], RuleFn]]] = {}


def register_rule(name: str, description: str, build: Callable[[], RuleFn]) -> None:
    """Add a rule; names are unique."""
    if name in _BUILDERS:
        raise ValueError(f"a selection rule named {name!r} is already registered")
    _BUILDERS[name] = (description, build)


def rule_names() -> list[str]:
    return list(_BUILDERS)


def describe(name: str) -> str:
    return _BUILDERS[name][0] if name in _BUILDERS else f"imported from {name}"


def scorer_rule(scorer) -> RuleFn:
    """A rule from any scorer object, called the way the Selector calls it."""
    from facesel.scoring.base import score_crops

    return lambda crops, context: np.asarray(score_crops(scorer, crops, context), np.float64)


def build_rule(name: str) -> RuleFn:
    """The rule called ``name``: a registered one, or ``module:attribute`` imported."""
    if name in _BUILDERS:
        return _BUILDERS[name][1]()
    if ":" in name:
        module, _, attr = name.partition(":")
        obj = getattr(importlib.import_module(module), attr)
        if not callable(getattr(obj, "score", None)):
            obj = obj()
        if not callable(getattr(obj, "score", None)):
            raise TypeError(f"{name} is neither a scorer nor a factory of one")
        return scorer_rule(obj)
    raise ValueError(f"unknown selection rule {name!r}; known: {', '.join(_BUILDERS)} (or module:attribute)")


def _vae(method: str) -> Callable[[], RuleFn]:
    def build() -> RuleFn:
        from facesel.scoring import VAEScorer

        return scorer_rule(VAEScorer(method=method))

    return build


def _default() -> RuleFn:
    from facesel.scoring import default_scorer

    return scorer_rule(default_scorer())


def _default_screen() -> RuleFn:
    from facesel.scoring import default_scorer

    scorer = default_scorer()
    screen = getattr(scorer, "screen", None)
    if screen is None:
        return scorer_rule(scorer)
    return lambda crops, context: np.asarray(screen(crops, context=context), np.float64)


def _sharpness() -> RuleFn:
    from facesel.scoring import LaplacianVarianceScorer

    return scorer_rule(LaplacianVarianceScorer())


def _face_size() -> RuleFn:
    def rule(crops, context):
        b = context.boxes.astype(np.float64)
        return np.minimum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])

    return lambda: rule


def _detector() -> RuleFn:
    return lambda crops, context: context.det_scores.astype(np.float64)


def _frontal() -> RuleFn:
    from facesel.scoring.pose import frontalness

    return lambda crops, context: frontalness(context.landmarks)


register_rule("default", "facesel.scoring.default_scorer(), as the Selector calls it", _default)
register_rule("default-screen", "the default scorer's cheap screen() pass (PickScorer: its context part, no network)", _default_screen)
register_rule("dose", "the VAE's DoSE rule (the previous default), L = 10", _vae("dose"))
register_rule("paper", "the paper's VAE log reconstruction probability, L = 10", _vae("paper"))
register_rule("sharpness", "variance of the Laplacian of the crop", _sharpness)
register_rule("face-size", "shorter side of the detector's box, in frame pixels", _face_size())
register_rule("detector", "the detector's confidence", _detector)
register_rule("frontal", "pose from the five landmarks: minus squared yaw, roll and pitch", _frontal)
