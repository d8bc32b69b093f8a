"""How far can any weighting of the signals the pick has go? An in-sample ceiling for issue 22.

Issue 22 asks the default to beat a random frame by 0.02 smoothed regret, held out by source. This
experiment asks a simpler, more generous question first: with the signals facesel computes per
crop (detector confidence, log size, log sharpness, -|yaw|, -|roll|, -|pitch - 0.05|, the VAE's
dose, the paper's log RP and the eye band, plus seconds from the track's ends), what does the
**best** linear weighting achieve when it is chosen on the very windows it is judged on? A
direction is a weight vector over the signals, each normalised within its window (ranks or
z-scores, so that no clip's scale dominates). Identity directions (each signal alone) and
``--directions`` random Gaussian directions are scored on every window; the best mean is the
in-sample ceiling (optimistic: it has seen the answers), and the same family chosen
leave-one-source-out is its honest counterpart.

If the in-sample ceiling stays short of the bar, no weighting of these signals can reach it and a
new per-crop signal is needed: that is the claim this script checks.

Run (the signals come from ``facesel eval tracks``' number cache; a first run decodes the clips):
    python experiments/pick_ceiling.py --cache-dir /tmp/pick-cache/tracks --window 4
Prints a table; ``--json PATH`` writes the numbers.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from facesel.cli.eval import _expand_videos
from facesel.data import data_root
from facesel.eval import track_metrics as tm
from facesel.eval.track_bench import load_benchmark
from facesel.eval.track_heldout import fast_metrics, held_out_choice
from facesel.eval.track_metrics import grouped_bootstrap_mean

VIDEOS = ["arcade_walkers_1080p.mp4", "intel_face_demographics_walking.gif", "intel_head_pose_female.gif",
          "selfie_motion_blur_portrait.mp4", "otb_girl/img", "more"]

SIGNALS = ["detector", "log size", "log sharpness", "-|yaw|", "-|roll|", "-|pitch - 0.05|", "dose",
           "paper log RP", "eye band", "seconds from track ends"]


def window_features(view) -> np.ndarray:
    """(M, len(SIGNALS)) float64: every signal of one window, larger = expected better; NaN -> worst."""
    s = view.signals
    columns = [s["det"], np.log(s["size"]), np.log1p(s["sharpness"]), -np.abs(s["yaw"]), -np.abs(s["roll"]),
               -np.abs(s["pitch"] - 0.05), s["dose"], s["paper"], s["eyes"], view.seconds_from_track_ends()]
    f = np.stack([np.asarray(c, np.float64) for c in columns], axis=1)
    for j in range(f.shape[1]):
        bad = ~np.isfinite(f[:, j])
        if bad.any():
            f[bad, j] = np.nanmin(np.where(bad, np.nan, f[:, j])) if (~bad).any() else 0.0
    return f


def normalise(f: np.ndarray, how: str) -> np.ndarray:
    """Within-window normalisation: 'rank' -> [0, 1] ranks, 'z' -> z-scores (constant column -> 0)."""
    if how == "rank":
        return np.argsort(np.argsort(f, axis=0), axis=0) / max(len(f) - 1, 1)
    sd = f.std(axis=0)
    return (f - f.mean(axis=0)) / np.where(sd > 0, sd, 1.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache-dir", type=Path, required=True)
    ap.add_argument("--window", type=float, default=4.0, help="seconds per window (as facesel eval tracks)")
    ap.add_argument("--directions", type=int, default=3000, help="random weight directions tried")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    root = data_root() / "videos"
    videos = _expand_videos([root / v for v in VIDEOS])
    bench = load_benchmark(videos, {}, cache_dir=args.cache_dir, window=args.window)
    obs, views = bench.observations, bench.views
    smoothed = [tm.smooth(o.distances) for o in obs]
    random_regret = np.array([s.mean() - s.min() for s in smoothed])  # a random pick's expectation
    clips = np.array([o.clip for o in obs])
    sources = np.array([o.source for o in obs])
    rng = np.random.default_rng(args.seed)
    k = len(SIGNALS)
    directions = np.vstack([np.eye(k), rng.normal(size=(args.directions, k))])

    out = {"windows": len(obs), "clips": len(set(clips)), "sources": len(set(sources)),
           "oracle_minus_random": float(-random_regret.mean()), "families": {}}
    print(f"{len(obs)} windows, {len(set(clips))} clips, {len(set(sources))} sources; "
          f"a perfect pick - random = {-random_regret.mean():+.4f} (the bar: -0.020)")
    for how in ("rank", "z"):
        feats = [normalise(window_features(v), how) for v in views]
        gain = np.array([[fast_metrics(f @ w, o.distances, s)[0] for f, o, s in zip(feats, obs, smoothed)]
                         for w in directions]) - random_regret  # (C, T), negative = better than random
        single = {name: float(gain[j].mean()) for j, name in enumerate(SIGNALS)}
        best = int(gain.mean(axis=1).argmin())
        chosen, _ = held_out_choice(gain, sources)
        held = gain[chosen, np.arange(len(obs))]
        in_mean, in_lo, in_hi = grouped_bootstrap_mean(gain[best], clips, seed=args.seed)
        ho_mean, ho_lo, ho_hi = grouped_bootstrap_mean(held, clips, seed=args.seed)
        out["families"][how] = {"single_minus_random": single,
                                "in_sample_best": [in_mean, in_lo, in_hi],
                                "in_sample_best_weights": dict(zip(SIGNALS, directions[best].round(3).tolist())),
                                "leave_one_source_out": [ho_mean, ho_lo, ho_hi]}
        print(f"\nwithin-window {how} normalisation, {len(directions)} directions:")
        for name, g in single.items():
            print(f"  {name:<26} alone {g:+.4f}")
        print(f"  in-sample best weighting   {in_mean:+.4f} [{in_lo:+.4f}, {in_hi:+.4f}]  (chosen on every window)")
        print(f"  leave-one-source-out       {ho_mean:+.4f} [{ho_lo:+.4f}, {ho_hi:+.4f}]")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
