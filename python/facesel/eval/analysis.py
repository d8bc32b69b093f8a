"""From an evaluation set and per-image qualities to curves, pAUC, gains and bootstrap intervals.

Protocols (see :mod:`facesel.eval.metrics` for the definitions):

* ``erc-fnmr-0.01``, ``erc-fnmr-0.001``: the paper's ERC; comparisons = (reference, probe) pairs,
  quality = the probe's quality, threshold from the genuine distances.
* ``edc-fmr-0.001``: ISO/IEC 29794-1:2024 EDC; comparisons = the same mated pairs, quality = the
  lower of the two qualities, threshold at FMR = 1e-3 over all (reference, probe) pairs of
  different subjects.

Confidence intervals: percentile bootstrap over subjects (resampled with replacement); the
thresholds stay those of the full set. Random rejection is taken at its exact expectation (the
initial error rate at every discard fraction, so pAUC = initial error x limit); the mean of many
seeded random orderings is plotted and reported beside it as a check.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from facesel.eval import metrics

LIMITS = (0.2, 0.3)
GRID = np.linspace(0.0, 0.5, 101)


@dataclass
class ProtocolResult:
    """Curves and summary numbers of one protocol.

    ``rows[name]`` has, per limit ``L`` in :data:`LIMITS`: ``pauc@L`` (normalised, i.e. divided by
    L), ``pauc@L_ci`` (2.5 and 97.5 percentiles), ``gain@L`` and ``gain@L_ci``. ``curves[name]`` is
    the error rate on :data:`GRID`. Names include "random" and "ideal". ``paired["A vs B@L"]`` holds
    the gain difference A - B and its bootstrap interval (same resamples for both methods).
    """

    name: str
    title: str
    threshold: float
    initial_error: float
    n_comparisons: int
    n_errors: int
    rows: dict = field(default_factory=dict)
    curves: dict = field(default_factory=dict)
    paired: dict = field(default_factory=dict)


def _protocol_inputs(eval_set, name: str):
    probes = eval_set.probes
    refs = eval_set.reference_of[probes]
    genuine = eval_set.genuine_distance()
    if name.startswith("erc-fnmr-"):
        f = float(name.split("-")[-1])
        threshold = metrics.fnmr_threshold(genuine, f)
        title = f"ERC (paper eqs. 3-6), initial FNMR = {f:g}: FNMR vs fraction of probes rejected"
        pair_quality = lambda q: q[probes]
    elif name.startswith("edc-fmr-"):
        fmr = float(name.split("-")[-1])
        _, _, impostor = eval_set.impostor_pairs()
        threshold = metrics.fmr_threshold(impostor, fmr)
        title = f"EDC (ISO/IEC 29794-1:2024), FMR = {fmr:g} ({len(impostor)} impostor pairs): FNMR vs fraction discarded"
        pair_quality = lambda q: np.minimum(q[probes], q[refs])
    else:
        raise ValueError(f"unknown protocol {name!r}")
    return title, threshold, genuine, genuine > threshold, pair_quality


def _bootstrap_indices(groups: np.ndarray, n_boot: int, seed: int):
    """Yield index arrays that resample the groups (subjects) with replacement."""
    uniq, inverse = np.unique(groups, return_inverse=True)
    members = [np.flatnonzero(inverse == g) for g in range(len(uniq))]
    rng = np.random.default_rng(seed)
    for _ in range(n_boot):
        pick = rng.integers(len(uniq), size=len(uniq))
        yield np.concatenate([members[g] for g in pick])


def analyse(
    eval_set,
    qualities: dict,
    protocols: tuple = ("erc-fnmr-0.01", "erc-fnmr-0.001", "edc-fmr-0.001"),
    n_boot: int = 500,
    n_random: int = 100,
    seed: int = 0,
) -> dict:
    """Compute every protocol for every method.

    Parameters
    ----------
    eval_set : :class:`facesel.eval.protocol.EvalSet`
    qualities : dict name -> (N,) float64
        Per-image quality (all images, references included), higher is better.
    n_boot : int
        Bootstrap resamples over subjects (0 disables the intervals).
    n_random : int
        Seeds for the random-rejection curve.

    Returns
    -------
    results : dict protocol name -> ProtocolResult
    skipped : dict protocol name -> reason (e.g. too few impostor pairs for the FMR)
    """
    n = len(eval_set.identities)
    for name, q in qualities.items():
        q = np.asarray(q)
        if q.shape != (n,) or not np.all(np.isfinite(q)):
            raise ValueError(f"quality of {name!r} must be a finite (N,) = ({n},) array, got shape {q.shape}")
    results, skipped = {}, {}
    probe_ident = eval_set.identities[eval_set.probes]
    for proto in protocols:
        try:
            title, threshold, distance, is_error, pair_quality = _protocol_inputs(eval_set, proto)
        except metrics.TooFewComparisons as err:
            skipped[proto] = str(err)
            continue
        res = ProtocolResult(proto, title, threshold, float(is_error.mean()), len(is_error), int(is_error.sum()))
        pair_q = {name: pair_quality(np.asarray(q, dtype=np.float64)) for name, q in qualities.items()}
        pair_q["ideal"] = -distance
        curves = {name: metrics.error_vs_discard(q, is_error) for name, q in pair_q.items()}
        point = {name: {L: c.pauc(L) for L in LIMITS} for name, c in curves.items()}
        # Random rejection's expected pAUC is exactly initial_error * L (a random subset has, in
        # expectation, the initial error rate); it is used for the gains. The many-seed mean is
        # reported beside it and plotted, as a check.
        point["random"] = {L: float(is_error.mean()) * L for L in LIMITS}
        random_mc = {L: metrics.random_pauc(is_error, L, n_random, seed) for L in LIMITS}
        res.curves = {name: c.at(GRID) for name, c in curves.items()}
        res.curves["random"] = metrics.random_curve(is_error, n_random, seed, GRID)

        boot = {name: {L: [] for L in LIMITS} for name in point}
        boot_gain = {name: {L: [] for L in LIMITS} for name in point}
        for idx in _bootstrap_indices(probe_ident, n_boot, seed + 1):
            err_b = is_error[idx]
            curves_b = {name: metrics.error_vs_discard(q[idx], err_b) for name, q in pair_q.items()}
            for L in LIMITS:
                rand_b = err_b.mean() * L
                ideal_b = curves_b["ideal"].pauc(L)
                for name in point:
                    p = rand_b if name == "random" else curves_b[name].pauc(L)
                    boot[name][L].append(p / L)
                    boot_gain[name][L].append(metrics.gain(p, rand_b, ideal_b))

        for name in point:
            row = {}
            for L in LIMITS:
                key = f"{L:g}"
                row[f"pauc@{key}"] = point[name][L] / L
                row[f"gain@{key}"] = metrics.gain(point[name][L], point["random"][L], point["ideal"][L])
                if n_boot:
                    row[f"pauc@{key}_ci"] = _ci(boot[name][L])
                    row[f"gain@{key}_ci"] = _ci(boot_gain[name][L])
            if name == "random":
                for L in LIMITS:
                    row[f"pauc@{L:g}_seeds_mean"] = random_mc[L] / L
            res.rows[name] = row
        # Paired differences on the same resamples: the honest way to ask "does A beat B?".
        names = [m for m in point if m not in ("random", "ideal")]
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                for L in LIMITS:
                    key = f"{L:g}"
                    diff = np.asarray(boot_gain[a][L]) - np.asarray(boot_gain[b][L])
                    res.paired[f"{a} vs {b}@{key}"] = {
                        "gain_difference": res.rows[a][f"gain@{key}"] - res.rows[b][f"gain@{key}"],
                        "ci": _ci(diff) if n_boot else [float("nan"), float("nan")],
                    }
        results[proto] = res
    return results, skipped


def _ci(values) -> list:
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return [float("nan"), float("nan")]
    return [float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))]


def kind_ranks(eval_set, qualities: dict) -> dict:
    """Which degradations each method notices: mean percentile rank of each kind's probes.

    Returns dict method -> dict kind -> mean rank in [0, 1] among all probes (0.5 = unnoticed, lower =
    scored worse than the other probes). "ideal" ranks by minus the true distance, i.e. shows which
    kinds actually hurt the matcher. Ties share their average rank.
    """
    from scipy.stats import rankdata

    probes = eval_set.probes
    kinds = eval_set.kind[probes]
    table = {}
    named = dict(qualities)
    named["ideal"] = None
    distance = eval_set.genuine_distance()
    for name, q in named.items():
        values = -distance if q is None else np.asarray(q, dtype=np.float64)[probes]
        pct = (rankdata(values) - 0.5) / len(values)
        table[name] = {k: float(pct[kinds == k].mean()) for k in sorted(set(kinds))}
    return table


def kind_spearman(eval_set, qualities: dict) -> dict:
    """Whether each method falls with each degradation's severity: Spearman(severity, quality).

    Returns dict method -> dict kind -> Spearman rank correlation over that kind's probes (each
    probe one face at its own random severity in [0, 1], pooled over faces; -1 = the quality falls
    exactly as the severity grows, 0 = unrelated; NaN where the quality or the severity is constant
    within the kind, e.g. face size on tight crops). "ideal" uses minus the true distance.
    """
    from facesel.eval.evidence import spearman

    def rho(a: np.ndarray, b: np.ndarray) -> float:
        return spearman(a, b) if len(a) > 1 and np.ptp(a) > 0 and np.ptp(b) > 0 else float("nan")

    probes = eval_set.probes
    kinds = eval_set.kind[probes]
    severity = eval_set.severity[probes]
    named = dict(qualities)
    named["ideal"] = None
    distance = eval_set.genuine_distance()
    table = {}
    for name, q in named.items():
        values = -distance if q is None else np.asarray(q, dtype=np.float64)[probes]
        table[name] = {k: rho(severity[kinds == k], values[kinds == k]) for k in sorted(set(kinds))}
    return table
