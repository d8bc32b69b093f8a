"""Registry of the quality methods the evaluation compares, looked up by name.

A method is built once per run from a :class:`MethodContext` (which lazily loads the training faces)
and returns a function ``(crops (N, 64, 64) uint8, image_side (N,) float) -> (N,) float64`` quality,
higher is better. A method that cannot be built here (a missing model, a missing module, no
training folder) raises :class:`MethodUnavailable` with the reason; the report then shows a
"not available: <why>" row, never a number.

Random rejection and the ideal curve are not methods: the analysis adds them to every table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from facesel.eval.method_context import MethodContext, MethodUnavailable, QualityFn

UNSUPERVISED = "unsupervised model (no recognition model)"
HEURISTIC = "heuristic (no recognition model)"
SUPERVISED = "supervised: NEEDS A FACE-RECOGNITION MODEL for training"


@dataclass(frozen=True)
class Method:
    """Attributes: name (registry key), family (see the module constants), description, build."""

    name: str
    family: str
    description: str
    build: Callable[[MethodContext], QualityFn]


_REGISTRY: dict[str, Method] = {}


def register(method: Method) -> None:
    """Add a method; names are unique."""
    if method.name in _REGISTRY:
        raise ValueError(f"a quality method named {method.name!r} is already registered")
    _REGISTRY[method.name] = method


def method_names() -> list[str]:
    """Every registered name, in registration order."""
    return list(_REGISTRY)


def get_method(name: str) -> Method:
    """The method called ``name``; ValueError naming the known ones otherwise."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown quality method {name!r}; known: {', '.join(_REGISTRY)}")
    return _REGISTRY[name]


def build_methods(names: list[str], context: MethodContext) -> tuple[dict[str, QualityFn], dict[str, str]]:
    """Build each named method.

    Returns
    -------
    built : dict name -> quality function
    unavailable : dict name -> reason
    """
    built, unavailable = {}, {}
    for name in names:
        method = get_method(name)
        try:
            built[name] = method.build(context)
        except MethodUnavailable as err:
            unavailable[name] = str(err)
    return built, unavailable


# --- the methods --------------------------------------------------------------------------------


def _crop_scorer(scorer) -> QualityFn:
    return lambda crops, image_side: np.asarray(scorer.score(crops), dtype=np.float64)


def _build_sharpness(ctx: MethodContext) -> QualityFn:
    from facesel.scoring import LaplacianVarianceScorer

    return _crop_scorer(LaplacianVarianceScorer())


def _build_brightness(ctx: MethodContext) -> QualityFn:
    from facesel.scoring.baselines import BrightnessScorer

    return _crop_scorer(BrightnessScorer())


def _build_contrast(ctx: MethodContext) -> QualityFn:
    from facesel.scoring.baselines import ContrastScorer

    return _crop_scorer(ContrastScorer())


def _build_face_size(ctx: MethodContext) -> QualityFn:
    from facesel.scoring.baselines import face_size_quality

    return lambda crops, image_side: face_size_quality(image_side)


def _build_pca(ctx: MethodContext) -> QualityFn:
    return _crop_scorer(ctx.pca())


def _build_supervised(ctx: MethodContext) -> QualityFn:
    from facesel.eval.supervised import train_distance_regressor

    return _crop_scorer(train_distance_regressor(ctx))


def _card_summary(card: dict) -> str:
    keys = [k for k in ("model", "epoch", "epochs", "parameters", "git_commit", "default_method") if k in card]
    return ", ".join(f"{k}={card[k]}" for k in keys) or "(none)"


def _vae_builder(label: str) -> Callable[[MethodContext], QualityFn]:
    def build(ctx: MethodContext) -> QualityFn:
        from facesel.eval.vae_methods import SharedVAEOutputs, make_vae_scorer

        scorer = make_vae_scorer(label, ctx.vae_model)
        card = getattr(scorer, "card", {}) or {}
        ctx.notes.append(f"{label} VAE: {scorer!r}; model card: {_card_summary(card)}")
        if scorer.use_mean:
            return _crop_scorer(scorer)
        # Variants at the same L and seed share one decoder pass (see facesel.eval.vae_methods).
        group_key = (str(scorer.model_dir), scorer.samples, scorer.seed)
        shared = ctx.shared.get(group_key)
        if shared is None:
            shared = ctx.shared[group_key] = SharedVAEOutputs(scorer)
        shared.add_rule(scorer.method)
        rule = scorer.method
        return lambda crops, image_side: shared.score(crops, rule)

    return build


register(Method("vae", UNSUPERVISED, "facesel's default VAE quality score (L = 10)", _vae_builder("default")))
register(Method("vae-dose", UNSUPERVISED, "the previous default VAE rule, dose without the flat-patch statistic (L = 10)", _vae_builder("dose")))
register(Method("vae-paper", UNSUPERVISED, "the paper's VAE reconstruction probability (L = 10)", _vae_builder("paper")))
register(Method("vae-paper-L1", UNSUPERVISED, "ablation: the paper's score with L = 1, z = mu_z", _vae_builder("paper-L1")))
register(
    Method("vae-recon-error", UNSUPERVISED, "ablation: plain VAE reconstruction error instead of probability", _vae_builder("recon-error"))
)
register(Method("pca-error", UNSUPERVISED, "eigenface (PCA, 50 components) reconstruction error", _build_pca))
register(Method("sharpness", HEURISTIC, "variance of the Laplacian", _build_sharpness))
register(Method("brightness", HEURISTIC, "mean grey level close to mid-grey", _build_brightness))
register(Method("contrast", HEURISTIC, "RMS contrast (std of grey levels)", _build_contrast))
register(Method("face-size", HEURISTIC, "shorter side of the face image (constant when all sizes are equal)", _build_face_size))
register(
    Method(
        "supervised-ridge",
        SUPERVISED,
        "FaceQnet-like: ridge regression from crop features to the matcher distance, trained on lfw/train",
        _build_supervised,
    )
)
