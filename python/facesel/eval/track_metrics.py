"""How well a quality score picks one crop of a track: the within-track metrics of ``facesel eval tracks``.

Every track is a list of crops of one person, each with a matcher distance to that person (lower
is better). A score picks the crop it rates highest; the metrics say how good that pick is:

* **pick distance**: the picked crop's distance;
* **regret**: the pick's distance minus the track's best distance (0 for a perfect score);
* **smoothed regret**: the same on distances averaged over 5 consecutive crops of the track, since
  a single frame's distance jitters (a perfect score on the smoothed distances also gets 0);
* **matchable**: whether the pick's distance is below the matcher's threshold (0.6 for dlib);
* **rank correlation**: Spearman's rho between score and distance within the track (negative is
  good: higher quality, smaller distance).

Ties are resolved by expectation: a score that gives several crops the top value picks each of
them with equal probability, so a constant score gets exactly the random pick's numbers. The
random pick itself is not sampled: its expectation is the mean over the track's crops.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MATCH_THRESHOLD = 0.6
"""dlib's usual same-person threshold on the Euclidean embedding distance."""

SMOOTH_WINDOW = 5
"""Consecutive crops averaged for the smoothed distance (centred; shorter at the track's ends)."""


def _as_vector(name: str, values) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1 or len(v) == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {v.shape}")
    return v


def smooth(distances, window: int = SMOOTH_WINDOW) -> np.ndarray:
    """(M,) centred moving average over ``window`` crops; near the ends, over the crops that exist.

    Parameters
    ----------
    distances : (M,) float, in track (frame) order
    window : odd int >= 1
    """
    d = _as_vector("distances", distances)
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1 or window % 2 == 0:
        raise ValueError(f"window must be an odd integer >= 1, got {window!r}")
    half = window // 2
    c = np.concatenate([[0.0], np.cumsum(d)])
    lo = np.maximum(np.arange(len(d)) - half, 0)
    hi = np.minimum(np.arange(len(d)) + half + 1, len(d))
    return (c[hi] - c[lo]) / (hi - lo)


def pick_weights(scores) -> np.ndarray:
    """(M,) probability that each crop is the pick: uniform over the crops with the top score."""
    s = _as_vector("scores", scores)
    if np.isnan(s).any():
        raise ValueError("scores must not contain NaN")
    top = s == s.max()
    return top / top.sum()


def spearman(a, b) -> float:
    """Spearman's rank correlation (average ranks for ties); NaN when either side is constant."""
    from scipy.stats import rankdata

    a, b = _as_vector("a", a), _as_vector("b", b)
    if len(a) != len(b):
        raise ValueError(f"a and b must have one length, got {len(a)} and {len(b)}")
    ra, rb = rankdata(a), rankdata(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    den = np.sqrt((ra * ra).sum() * (rb * rb).sum())
    return float((ra * rb).sum() / den) if den > 0 else float("nan")


@dataclass(frozen=True)
class TrackPick:
    """The metrics of one score on one track (expectations over tied top scores)."""

    distance: float
    regret: float
    smoothed_regret: float
    matchable: float
    rank_correlation: float


def evaluate_pick(scores, distances, threshold: float = MATCH_THRESHOLD, window: int = SMOOTH_WINDOW) -> TrackPick:
    """The metrics of the crop ``scores`` picks in one track.

    Parameters
    ----------
    scores : (M,) float
        Quality of each crop, higher is better.
    distances : (M,) float
        Matcher distance of each crop to the track's person, in track order.
    """
    d = _as_vector("distances", distances)
    s = _as_vector("scores", scores)
    if len(s) != len(d):
        raise ValueError(f"scores ({len(s)}) and distances ({len(d)}) must have one entry per crop")
    w = pick_weights(s)
    sd = smooth(d, window)
    return TrackPick(
        distance=float(w @ d),
        regret=float(w @ d - d.min()),
        smoothed_regret=float(w @ sd - sd.min()),
        matchable=float(w @ (d < threshold)),
        rank_correlation=spearman(s, d) if len(d) >= 3 else float("nan"),
    )


def random_pick(distances, threshold: float = MATCH_THRESHOLD, window: int = SMOOTH_WINDOW) -> TrackPick:
    """The exact expectation of a uniformly random pick (rank correlation 0 by symmetry)."""
    d = _as_vector("distances", distances)
    pick = evaluate_pick(np.zeros(len(d)), d, threshold, window)
    return TrackPick(pick.distance, pick.regret, pick.smoothed_regret, pick.matchable, 0.0)


METRICS = ("distance", "regret", "smoothed_regret", "matchable", "rank_correlation")
"""The fields of :class:`TrackPick`, in report order."""


def as_table(picks: list[TrackPick]) -> np.ndarray:
    """(T, len(METRICS)) float64 array of the tracks' metrics."""
    return np.array([[getattr(p, m) for m in METRICS] for p in picks], dtype=np.float64).reshape(-1, len(METRICS))


def bootstrap_mean(values, n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> tuple[float, float, float]:
    """Mean over tracks and its percentile bootstrap interval (tracks resampled with replacement).

    NaN entries (e.g. rank correlation of a constant score) are left out of the mean.

    Returns
    -------
    mean, low, high : float
        ``low`` and ``high`` are NaN with fewer than two values: resampling one value gives it
        back every time, an interval of width 0 that would read as certainty.
    """
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    v = v[~np.isnan(v)]
    if len(v) == 0:
        return float("nan"), float("nan"), float("nan")
    if n_boot < 1 or len(v) < 2:
        return float(v.mean()), float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, len(v), size=(n_boot, len(v)))].mean(axis=1)
    alpha = (1.0 - level) / 2.0
    return float(v.mean()), float(np.quantile(means, alpha)), float(np.quantile(means, 1.0 - alpha))


def grouped_bootstrap_mean(values, groups, n_boot: int = 2000, seed: int = 0,
                           level: float = 0.95) -> tuple[float, float, float]:
    """Mean over observations and its percentile interval by a **cluster bootstrap**: whole groups
    (clips) are resampled with replacement and the mean is taken over all observations of the
    drawn groups.

    Windows of one clip show one person in one setting; they are not independent, and an
    interval that resamples them one by one is too narrow. With one observation per group this is
    :func:`bootstrap_mean`'s interval.

    Parameters
    ----------
    values : (T,) float
        One value per observation; NaN entries are left out (with their group weight).
    groups : (T,) hashable
        The group (clip) of each observation.

    Returns
    -------
    mean, low, high : float
        ``low`` and ``high`` are NaN when the values come from fewer than two groups: one clip
        resampled is the same clip every time, and its interval of width 0 read as certainty
        (``facesel eval tracks`` on one video printed ``0.039 [0.039, 0.039]``; ux22).
    """
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    g = np.asarray(groups).reshape(-1)
    if len(g) != len(v):
        raise ValueError(f"values ({len(v)}) and groups ({len(g)}) must have one entry per observation")
    keep = ~np.isnan(v)
    v, g = v[keep], g[keep]
    if len(v) == 0:
        return float("nan"), float("nan"), float("nan")
    if n_boot < 1:
        return float(v.mean()), float("nan"), float("nan")
    _, label = np.unique(g, return_inverse=True)
    k = label.max() + 1
    if k < 2:
        return float(v.mean()), float("nan"), float("nan")
    sums = np.bincount(label, weights=v, minlength=k)
    counts = np.bincount(label, minlength=k).astype(np.float64)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, k, size=(n_boot, k))
    means = sums[draws].sum(axis=1) / counts[draws].sum(axis=1)
    alpha = (1.0 - level) / 2.0
    return float(v.mean()), float(np.quantile(means, alpha)), float(np.quantile(means, 1.0 - alpha))
