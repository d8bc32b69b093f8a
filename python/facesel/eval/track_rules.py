"""The selection rules ``facesel eval tracks`` compares, by name.

A rule is built once and called as ``rule(view: TrackView) -> (M,) float64`` quality, higher is
better, on one window of one track at a time. The built-in rules read the per-crop signals that
:mod:`facesel.eval.track_signals` computed once per video (the VAE rules included), so comparing
and cross-validating rules costs no network pass. A rule named ``module:attribute`` on the command
line is imported (an object with ``score`` or a zero-argument factory returning one) and scores the
window's crops the way the Selector calls it. The random pick is not a rule: the metrics add its
exact expectation to every table.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass
class TrackView:
    """What a rule sees of one window: its crops' signals, and the crops and context themselves.

    signals : dict name -> (M,) float64 (:data:`facesel.eval.track_signals.SIGNAL_NAMES`)
    crops : (M, 64, 64) uint8 or None (None when the benchmark loaded no pixels)
    context : facesel.types.CropContext of the M crops
    frames : (M,) int64 or None
        Frame index of each crop (increasing): the time order temporal rules need.
    fps : float or None
    track_span : (first, last) frame of the whole track the window comes from, or None (then the
        window's own first and last frames): how far each crop is from the track's ends.
    """

    signals: dict
    crops: np.ndarray | None
    context: object
    frames: np.ndarray | None = None
    fps: float | None = None
    track_span: tuple[int, int] | None = None

    def seconds_from_track_ends(self) -> np.ndarray:
        """(M,) float64 seconds from each crop to the nearer end of its track (first or last frame)."""
        if self.frames is None or not self.fps:
            raise ValueError("this rule needs the crops' frame indices and the fps (TrackView.frames, fps)")
        f = np.asarray(self.frames, np.int64)
        first, last = self.track_span if self.track_span is not None else (int(f[0]), int(f[-1]))
        return np.minimum(f - first, last - f) / float(self.fps)

    def pose(self) -> np.ndarray:
        """(M, 3) yaw, roll, pitch (NaN where the landmarks are degenerate)."""
        return np.stack([self.signals["yaw"], self.signals["roll"], self.signals["pitch"]], axis=1)


RuleFn = Callable[[TrackView], np.ndarray]

_BUILDERS: dict[str, tuple[str, Callable[[], RuleFn], bool]] = {}


def register_rule(name: str, description: str, build: Callable[[], RuleFn], needs_crops: bool = False) -> None:
    """Add a rule; names are unique. ``needs_crops``: the rule reads pixels, not only signals."""
    if name in _BUILDERS:
        raise ValueError(f"a selection rule named {name!r} is already registered")
    _BUILDERS[name] = (description, build, needs_crops)


def rule_names() -> list[str]:
    """The registered selection rules' names, in registration order."""
    return list(_BUILDERS)


def describe(name: str) -> str:
    """A rule's one-line description (``imported from NAME`` for a rule not registered here)."""
    return _BUILDERS[name][0] if name in _BUILDERS else f"imported from {name}"


def needs_crops(name: str) -> bool:
    """Whether the rule reads pixels (then the benchmark decodes the videos again)."""
    return _BUILDERS[name][2] if name in _BUILDERS else True


def scorer_rule(scorer) -> RuleFn:
    """A rule from any scorer object, called the way the Selector calls it."""
    from facesel.scoring.base import score_crops

    def rule(view: TrackView) -> np.ndarray:
        if view.crops is None:
            raise ValueError("this rule scores pixels: run the benchmark with the crops loaded")
        return np.asarray(score_crops(scorer, view.crops, view.context), np.float64)

    return rule


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


def _signal(name: str) -> Callable[[], RuleFn]:
    return lambda: (lambda view: np.asarray(view.signals[name], np.float64))


def _frontal(view: TrackView) -> np.ndarray:
    cost = (view.pose() ** 2).sum(axis=1)
    return np.where(np.isnan(cost), -np.inf, -cost)


def gate_rule(params) -> RuleFn:
    """A :class:`facesel.scoring.gate.GateParams` rule on the signals (the same function the
    scorer applies)."""
    from facesel.scoring.gate import gate_scores

    def rule(view: TrackView) -> np.ndarray:
        s = view.signals
        return gate_scores(params, s["det"], s["size"], view.pose(), s["sharpness"], s["dose_mu"])

    return rule


def _gate_default() -> RuleFn:
    from facesel.scoring.gate import GATE_DEFAULT

    return gate_rule(GATE_DEFAULT)


register_rule("default", "facesel.scoring.default_scorer() (rule `context`, since issue 22: PickScorer's pose, detector "
              "and size terms, five weights fitted on the five older videos; no network), as the Selector calls it",
              _signal("default_context"))
register_rule("pick", "default_scorer('pick'), the default before issue 22 (PickScorer: VAE eye band + dose + the "
              "default's pose, detector and size terms; seven weights fitted on the five older videos)", _signal("default"))
register_rule("gate", "facesel.scoring.gate.GateScorer with its shipped parameters (GATE_DEFAULT: chosen on all "
              "the 4-s windows, so this row is in-sample; the held-out rows are the 'chosen ...' ones)", _gate_default)
register_rule("dose", "the VAE's DoSE rule (the previous default), L = 10", _signal("dose"))
register_rule("dose-mu", "the VAE's DoSE rule at z = mu_z (one pass, as inside the default)", _signal("dose_mu"))
register_rule("paper", "the paper's VAE log reconstruction probability, L = 10", _signal("paper"))
register_rule("sharpness", "variance of the Laplacian of the crop", _signal("sharpness"))
register_rule("face-size", "shorter side of the detector's box, in frame pixels", _signal("size"))
register_rule("detector", "the detector's confidence", _signal("det"))
register_rule("frontal", "pose from the five landmarks: minus squared yaw, roll and pitch", lambda: _frontal)


def _recentred(column: str) -> Callable[[], RuleFn]:
    """The default's (or its context part's) score with its pitch term measured from
    :data:`facesel.scoring.gate.PITCH_UPRIGHT` instead of the template's 0: the same weights."""

    def build() -> RuleFn:
        from facesel.scoring.gate import PITCH_UPRIGHT
        from facesel.scoring.pick import PICK_WEIGHTS, _BAD_POSE

        w = PICK_WEIGHTS["pitch"]

        def rule(view: TrackView) -> np.ndarray:
            p = view.signals["pitch"]
            old = np.nan_to_num(np.abs(p), nan=_BAD_POSE)
            new = np.nan_to_num(np.abs(p - PITCH_UPRIGHT), nan=_BAD_POSE)
            return np.asarray(view.signals[column], np.float64) + w * (old - new)

        return rule

    return build


register_rule("context-recentred", "the default (context rule) with the pitch term centred on PITCH_UPRIGHT (0.03, lfw/train) "
              "instead of 0; nothing refitted", _recentred("default_context"))
