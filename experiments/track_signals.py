"""Which per-crop signals pick well within a track, and a combination fitted leave-one-video-out.

Reads the ``features-*.npz`` of ``track_features.py``. Part 1: every single signal (sign chosen
so that higher should be better, fixed in SIGNALS, never fitted) as a selection rule: smoothed
regret over the eligible tracks. Part 2: a linear combination of standardised signals, weights
fitted on all videos but one by grid search on the smoothed regret and reported on the video left
out (leave-one-video-out: no reported track was seen by its weights).

Run:  python experiments/track_signals.py --features /tmp/pick/features
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import numpy as np

from facesel.eval import track_metrics as tm

SIGNALS = {
    # name: (function of the feature file -> per-crop value, higher should be better)
    "detector": lambda f: f["det"],
    "log_size": lambda f: f["log_size"],
    "sharpness": lambda f: f["log_sharpness"],
    "dose": lambda f: f["dose"],
    "paper": lambda f: f["paper"],
    "dose_l1": lambda f: f["dose_l1"],
    "-yaw": lambda f: -f["yaw"],
    "-roll": lambda f: -f["roll"],
    "-pitch": lambda f: -f["pitch"],
    "frontal": lambda f: -(f["yaw"] ** 2 + f["roll"] ** 2 + f["pitch"] ** 2),
    "-mirror_latent": lambda f: -f["mirror_latent"],
    "mirror_log_rp": lambda f: f["mirror_log_rp"],
    "eye_ll": lambda f: f["eye_ll"],
    # eye band minus the whole crop's mean log likelihood (paper_l1 is the L = 1 log RP, a sum over 4,096 pixels)
    "eye_rel": lambda f: f["eye_ll"] - f["paper_l1"] / 4096.0,
    "-kl": lambda f: -f["kl"],
    "-|mu_z|": lambda f: -np.linalg.norm(f["mu_z"], axis=1),
    **{f"stat{k}": (lambda f, k=k: f["stats"][:, k]) for k in range(8)},
}


def load(folder: Path) -> dict:
    return {p.stem.removeprefix("features-"): dict(np.load(p)) for p in sorted(folder.glob("features-*.npz"))}


def eligible_tracks(f: dict) -> list[np.ndarray]:
    out = []
    for t in np.unique(f["track_ids"]):
        idx = np.flatnonzero(f["track_ids"] == t)
        d = f["distance"][idx]
        if len(idx) >= 2 and np.isfinite(d).all() and (d < tm.MATCH_THRESHOLD).any():
            out.append(idx)
    return out


def regrets(videos: dict, values: dict) -> np.ndarray:
    """(T, 3) smoothed regret, raw regret, matchable of the pick of ``values`` on every eligible track."""
    rows = []
    for name, f in videos.items():
        for idx in eligible_tracks(f):
            p = tm.evaluate_pick(values[name][idx], f["distance"][idx])
            rows.append((p.smoothed_regret, p.regret, p.matchable))
    return np.array(rows)


def random_regrets(videos: dict) -> np.ndarray:
    rows = []
    for f in videos.values():
        for idx in eligible_tracks(f):
            p = tm.random_pick(f["distance"][idx])
            rows.append((p.smoothed_regret, p.regret, p.matchable))
    return np.array(rows)


def scales(videos: dict, names: list[str]) -> np.ndarray:
    """Spread of each signal within tracks (std of the value minus its track mean), pooled over
    ``videos``: the units in which the weights of a sum are expressed."""
    out = []
    for n in names:
        dev = []
        for f in videos.values():
            v = SIGNALS[n](f)
            for t in np.unique(f["track_ids"]):
                idx = f["track_ids"] == t
                dev.append(v[idx] - v[idx].mean())
        out.append(np.concatenate(dev).std())
    return np.array(out)


def stacked(f: dict, names: list[str], scale: np.ndarray) -> np.ndarray:
    return np.stack([SIGNALS[n](f) for n in names], 1) / scale


def fit_weights(videos: dict, names: list[str], grid) -> tuple:
    best = (np.inf, None)
    scale = scales(videos, names)
    z = {v: stacked(f, names, scale) for v, f in videos.items()}
    for w in itertools.product(grid, repeat=len(names) - 1):
        weights = np.array((1.0,) + w)
        r = regrets(videos, {v: z[v] @ weights for v in videos})[:, 0].mean()
        if r < best[0]:
            best = (r, weights / scale)
    return best[1]  # weights on the raw signals


def fit_ranking(videos: dict, names: list[str], l2: float = 1.0, margin: float = 0.02, offset=None) -> np.ndarray:
    """Weights of a linear score fitted as a within-track pairwise logistic ranking: for every pair
    of crops of one track whose smoothed distances differ by more than ``margin``, the score should
    rank the closer one higher. Every track weighs the same; signals in within-track std units.
    ``offset``: optional function of the feature file -> a fixed part of the score (not fitted)."""
    from scipy.optimize import minimize

    scale = scales(videos, names)
    diffs, weights, fixed = [], [], []
    for f in videos.values():
        x = stacked(f, names, scale)
        o = np.zeros(len(x)) if offset is None else offset(f)
        for idx in eligible_tracks(f):
            sd = tm.smooth(f["distance"][idx])
            i, j = np.triu_indices(len(idx), 1)
            keep = np.abs(sd[i] - sd[j]) > margin
            if not keep.any():
                continue
            i, j = i[keep], j[keep]
            sign = np.where(sd[i] < sd[j], 1.0, -1.0)
            diffs.append((x[idx[i]] - x[idx[j]]) * sign[:, None])
            fixed.append((o[idx[i]] - o[idx[j]]) * sign)
            weights.append(np.full(len(i), 1.0 / len(i)))
    d, w, c = np.concatenate(diffs), np.concatenate(weights), np.concatenate(fixed)
    d = np.nan_to_num(d)

    def loss(beta):
        m = d @ beta + c
        return (w * np.logaddexp(0.0, -m)).sum() + 0.5 * l2 * beta @ beta, d.T @ (w * -1.0 / (1.0 + np.exp(m))) + l2 * beta

    beta = minimize(loss, np.zeros(len(names)), jac=True, method="L-BFGS-B").x
    return beta / scale


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--features", type=Path, required=True)
    p.add_argument("--fixed-dose", nargs="*", type=float, default=[0.0, 0.01, 0.02, 0.05, 0.1, 0.2],
                   help="dose weights (chosen on lfw/train by pick_degradation.py) to evaluate PickScorer with")
    p.add_argument("--eye", choices=("eye_ll", "eye_rel"), default="eye_ll", help="PickScorer's eye signal")
    p.add_argument("--combine", nargs="+", default=["dose", "detector", "frontal"])
    p.add_argument("--ranking", nargs="+", default=["dose", "detector", "-yaw", "-roll", "-pitch", "log_size", "sharpness",
                                                     "-mirror_latent", "eye_ll"])
    args = p.parse_args()
    videos = load(args.features)
    rand = random_regrets(videos)
    print(f"{len(rand)} eligible tracks in {len(videos)} videos; random: smoothed {rand[:, 0].mean():.3f} "
          f"raw {rand[:, 1].mean():.3f} matchable {rand[:, 2].mean():.2f}")
    print(f"{'signal':16s} smoothed  raw    match  (smoothed - random, 95% CI)")
    for name, fn in SIGNALS.items():
        r = regrets(videos, {v: fn(f) for v, f in videos.items()})
        m, lo, hi = tm.bootstrap_mean(r[:, 0] - rand[:, 0], 2000, 0)
        per_video = " ".join(f"{v[:6]}={regrets({v: videos[v]}, {v: fn(videos[v])})[:, 0].mean():.3f}" for v in videos)
        print(f"{name:16s} {r[:, 0].mean():.3f}   {r[:, 1].mean():.3f}  {r[:, 2].mean():.2f}  "
              f"{m:+.3f} [{lo:+.3f}, {hi:+.3f}]  {per_video}")
    grid = [0.0, 0.25, 0.5, 1.0, 2.0, 4.0]
    names = args.combine
    held = []
    for out in videos:
        train = {v: f for v, f in videos.items() if v != out}
        w = fit_weights(train, names, grid)
        f = videos[out]
        z = np.stack([SIGNALS[n](f) for n in names], 1)
        r = regrets({out: f}, {out: z @ w})
        held.append(r)
        print(f"LOVO {out}: weights {dict(zip(names, np.round(w, 4)))} -> smoothed {r[:, 0].mean():.3f} on {len(r)} tracks")
    held = np.concatenate(held)
    m, lo, hi = tm.bootstrap_mean(held[:, 0] - rand[:, 0], 2000, 0)
    print(f"LOVO combination {names}: smoothed {held[:, 0].mean():.3f} raw {held[:, 1].mean():.3f} "
          f"matchable {held[:, 2].mean():.2f}; - random {m:+.3f} [{lo:+.3f}, {hi:+.3f}]")
    print("weights on all videos:", dict(zip(names, fit_weights(videos, names, grid))))
    for rank_names in (names, args.ranking):
        held = []
        for out in videos:
            w = fit_ranking({v: f for v, f in videos.items() if v != out}, rank_names)
            f = videos[out]
            held.append(regrets({out: f}, {out: np.nan_to_num(np.stack([SIGNALS[n](f) for n in rank_names], 1)) @ w}))
        held = np.concatenate(held)
        m, lo, hi = tm.bootstrap_mean(held[:, 0] - rand[:, 0], 2000, 0)
        print(f"LOVO ranking fit {rank_names}: smoothed {held[:, 0].mean():.3f} raw {held[:, 1].mean():.3f} "
              f"matchable {held[:, 2].mean():.2f}; - random {m:+.3f} [{lo:+.3f}, {hi:+.3f}]")
        print("  weights on all videos:", dict(zip(rank_names, np.round(fit_ranking(videos, rank_names), 4))))
    pick = [args.eye, "detector", "-yaw", "-roll", "-pitch", "log_size"]  # PickScorer's signals
    for w_dose in args.fixed_dose:
        offset = lambda f, w_dose=w_dose: w_dose * f["dose_l1"]
        held = []
        for out in videos:
            w = fit_ranking({v: f for v, f in videos.items() if v != out}, pick, l2=10.0, offset=offset)
            f = videos[out]
            held.append(regrets({out: f}, {out: np.nan_to_num(np.stack([SIGNALS[n](f) for n in pick], 1)) @ w + offset(f)}))
        held = np.concatenate(held)
        m, lo, hi = tm.bootstrap_mean(held[:, 0] - rand[:, 0], 2000, 0)
        rm, rlo, rhi = tm.bootstrap_mean(held[:, 1] - rand[:, 1], 2000, 0)
        print(f"LOVO PickScorer, {args.eye}, dose weight {w_dose} (fixed), others fitted (L2 = 10): smoothed {held[:, 0].mean():.3f} "
              f"raw {held[:, 1].mean():.3f} matchable {held[:, 2].mean():.2f}; - random: smoothed {m:+.3f} [{lo:+.3f}, {hi:+.3f}], "
              f"raw {rm:+.3f} [{rlo:+.3f}, {rhi:+.3f}]")
        print("  weights on all videos:", dict(zip(pick, np.round(fit_ranking(videos, pick, l2=10.0, offset=offset), 4))))


if __name__ == "__main__":
    main()
