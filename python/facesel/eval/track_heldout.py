"""Choosing a rule's few parameters without looking at the clips it is judged on.

A family of candidate rules (e.g. the :class:`facesel.scoring.gate.GateParams` grid of
:func:`gate_grid`) is scored once on every observation; then, for each fold (one source, or one
clip, left out), the candidate with the lowest mean smoothed regret on the **other** folds is
applied to the fold left out. The concatenated held-out values are what the report shows: no
reported window was seen by the choice that judged it.
"""

from __future__ import annotations

import itertools

import numpy as np

from facesel.eval import track_metrics as tm


def fast_metrics(scores, distances, smoothed) -> tuple[float, float, float]:
    """(smoothed regret, regret, matchable) of the pick of ``scores`` (ties by expectation), the
    subset of :func:`facesel.eval.track_metrics.evaluate_pick` a parameter search needs.

    scores, distances, smoothed : (M,) float; ``smoothed`` = ``track_metrics.smooth(distances)``."""
    s = np.asarray(scores, np.float64)
    top = s == s.max()
    w = top / top.sum()
    return (float(w @ smoothed - smoothed.min()), float(w @ distances - distances.min()),
            float(w @ (distances < tm.MATCH_THRESHOLD)))


def metric_matrix(candidates: list, observations: list, views: list) -> np.ndarray:
    """(C, T, 3) smoothed regret, regret, matchable of every candidate rule on every observation.

    candidates : list of rules ``view -> (M,) scores`` ; observations, views : one per observation."""
    smoothed = [tm.smooth(o.distances) for o in observations]
    out = np.empty((len(candidates), len(observations), 3))
    for c, rule in enumerate(candidates):
        for t, (o, v) in enumerate(zip(observations, views)):
            out[c, t] = fast_metrics(rule(v), o.distances, smoothed[t])
    return out


def held_out_choice(values: np.ndarray, folds) -> tuple[np.ndarray, dict]:
    """Leave-one-fold-out choice of a candidate.

    Parameters
    ----------
    values : (C, T) float
        The criterion (lower is better, e.g. smoothed regret) of every candidate on every observation.
    folds : (T,) hashable
        The fold of each observation (its source, or its clip).

    Returns
    -------
    chosen : (T,) int
        For each observation, the candidate chosen on the folds it is not in.
    per_fold : dict fold -> int
    """
    values = np.asarray(values, np.float64)
    folds = np.asarray(folds)
    chosen = np.empty(values.shape[1], np.int64)
    per_fold = {}
    for f in np.unique(folds):
        train = folds != f
        if not train.any():
            raise ValueError("held-out choice needs at least two folds")
        best = int(np.argmin(values[:, train].mean(axis=1)))  # first of ties: the grid's simplest
        chosen[folds == f] = best
        per_fold[f.item() if hasattr(f, "item") else f] = best
    return chosen, per_fold


def take(matrix: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """(T, ...) the rows of ``matrix`` (C, T, ...) of each observation's chosen candidate."""
    return matrix[chosen, np.arange(matrix.shape[1])]


def gate_grid() -> list:
    """The GateParams grid searched by ``facesel eval tracks``: 5 confidence thresholds, 4 yaw,
    4 pitch and 3 roll thresholds (inf = no gate), 5 secondary signals, the pitch gate centred on 0
    (the template) or on :data:`facesel.scoring.gate.PITCH_UPRIGHT` (measured on lfw/train): 2,100
    distinct candidates (the centre only matters with a pitch gate), ordered simplest first (no
    gate) so that ties go to fewer conditions."""
    from facesel.scoring.gate import PITCH_UPRIGHT, SECONDARY, GateParams

    inf = float("inf")
    grid = []
    for centre, det, yaw, pitch, roll, sec in itertools.product(
            (0.0, PITCH_UPRIGHT), (0.0, 0.6, 0.7, 0.8, 0.9), (inf, 0.25, 0.15, 0.1), (inf, 0.25, 0.15, 0.1),
            (inf, float(np.radians(30)), float(np.radians(15))), SECONDARY):
        if centre and pitch == inf:
            continue
        grid.append(GateParams(det, yaw, pitch, roll, sec, centre))
    return grid


RANK_SIGNALS = {
    # name: per-crop value from a TrackView's signals, higher should be better (signs fixed, never fitted)
    "det": lambda s: s["det"],
    "size": lambda s: s["size"],
    "sharpness": lambda s: s["sharpness"],
    "-|yaw|": lambda s: -np.nan_to_num(np.abs(s["yaw"]), nan=9.0),
    "-|pitch|": lambda s: -np.nan_to_num(np.abs(s["pitch"]), nan=9.0),
    "-|roll|": lambda s: -np.nan_to_num(np.abs(s["roll"]), nan=9.0),
    "dose": lambda s: s["dose_mu"],
}
"""The signals a rank-sum rule may add up (``dose``: the VAE's dose at z = mu_z)."""


def rank_sum_grid(max_terms: int = 3) -> list[tuple[str, ...]]:
    """Every set of 1 to ``max_terms`` of :data:`RANK_SIGNALS`, smallest sets first (63 for 3)."""
    names = list(RANK_SIGNALS)
    return [c for k in range(1, max_terms + 1) for c in itertools.combinations(names, k)]


def rank_sum_rule(names: tuple[str, ...]):
    """A rule: the sum of the named signals' ranks within the window (ties share the mean rank),
    each scaled to [0, 1]. Track-relative, so it needs the whole window: an evaluation
    comparison, not a per-crop scorer."""
    from scipy.stats import rankdata

    def rule(view) -> np.ndarray:
        total = np.zeros(len(view.signals["det"]))
        for n in names:
            r = rankdata(np.asarray(RANK_SIGNALS[n](view.signals), np.float64))
            total += (r - 1.0) / max(len(r) - 1, 1)
        return total

    return rule


def describe_rank_sum(names: tuple[str, ...]) -> str:
    """A rank-sum rule's name for reports: ``rank(a) + rank(b)``."""
    return "rank(" + ") + rank(".join(names) + ")"


TEMPORAL_BASES = {
    # name: per-crop value, higher should be better (no fitted parameter of its own)
    "default": lambda s: s["default_context"],
    "det": lambda s: s["det"],
    "frontal": lambda s: -(np.nan_to_num(s["yaw"], nan=1.0) ** 2 + np.nan_to_num(s["roll"], nan=1.0) ** 2
                           + np.nan_to_num(s["pitch"], nan=1.0) ** 2),
}
"""The per-crop values a temporal rule smooths (``default``: today's default, the context rule)."""

TEMPORAL_SMOOTHING = ((0, "mean"), (1, "mean"), (1, "median"), (2, "mean"), (2, "median"))
"""(half width in crops, statistic): 0 keeps the value as it is; the metric averages distances over
5 consecutive crops (a half width of 2)."""

TEMPORAL_END_MARGINS = (0.0, 0.5, 1.0)
"""Seconds from the track's first or last frame below which a crop is only picked when no other is."""


def smooth_within(values, half_width: int, statistic: str = "mean") -> np.ndarray:
    """(M,) the ``statistic`` ("mean" or "median") of ``values`` over each crop and its
    ``half_width`` neighbours on each side, in track order (fewer at the ends).

    A crop in a stable good stretch keeps its value; a lone good crop between bad ones loses it."""
    v = np.asarray(values, np.float64).reshape(-1)
    if half_width < 0 or statistic not in ("mean", "median"):
        raise ValueError(f"half_width must be >= 0 and statistic 'mean' or 'median', got {half_width!r}, {statistic!r}")
    if half_width == 0 or len(v) < 2:
        return v.copy()
    reduce = np.mean if statistic == "mean" else np.median
    return np.array([reduce(v[max(0, i - half_width):i + half_width + 1]) for i in range(len(v))])


def temporal_grid() -> list[tuple[str, int, str, float]]:
    """Every (base, half width, statistic, end margin) of the temporal family, simplest first:
    3 bases x 5 smoothings x 3 margins = 45 candidates."""
    return [(b, k, how, m) for b in TEMPORAL_BASES for k, how in TEMPORAL_SMOOTHING for m in TEMPORAL_END_MARGINS]


def temporal_rule(params: tuple[str, int, str, float]):
    """A rule: the base value smoothed within the window (:func:`smooth_within`), ranked, with
    the crops at least ``margin`` seconds from their track's ends first (when the window has
    none, the crops farthest from the ends). Needs ``TrackView.frames`` and ``fps``; track-relative
    (it needs the crops after the pick and the track's end): an evaluation comparison, not yet a
    per-crop scorer of the Selector."""
    from scipy.stats import rankdata

    base, half_width, statistic, margin = params

    def rule(view) -> np.ndarray:
        v = np.nan_to_num(np.asarray(TEMPORAL_BASES[base](view.signals), np.float64), nan=-1e9, neginf=-1e9)
        r = rankdata(smooth_within(v, half_width, statistic))
        r = (r - 1.0) / max(len(r) - 1, 1)
        if margin <= 0:
            return r
        ends = view.seconds_from_track_ends()
        inside = ends >= margin
        if not inside.any():
            inside = ends >= ends.max()
        return r + 2.0 * inside

    return rule


def describe_temporal(params: tuple[str, int, str, float]) -> str:
    """A temporal rule's name for reports from its (base, half width, statistic, margin)."""
    base, half_width, statistic, margin = params
    smooth = "as is" if half_width == 0 else f"{statistic} over +-{half_width} crops"
    end = "" if margin <= 0 else f", crops >= {margin:g} s from the track's ends first"
    return f"{base} {smooth}{end}"
