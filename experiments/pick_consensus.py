"""The consensus pick (facesel.scoring.consensus) on every shared clip, held out by source.

Three tables, all on the 4-s windows of ``facesel eval tracks`` (129 windows, 40 clips, 10
sources; smoothed regret minus a random frame's, clip-grouped 95 % intervals):

1. The family: the crop's agreement with its track's average, for four image representations
   (pixels, pixels blurred 5x5, Sobel edge magnitude, edges blurred 7x7) x two averages (mean
   direction, per-pixel median), each alone; the member chosen leave-one-source-out, and that
   held-out pick paired against each single signal and the default.
2. The shipped member (edges, mean direction: ``facesel.scoring.consensus``) as the Selector runs
   it: the track's average from the crops the sparse mode aligns (those that, when they came, were
   among the track's K best by the context screen so far), the choice among the K finalists, for
   K = 3, 8, 16, 32; paired against the default (the context rule), and for K = 16 by source.

Run (the crops are rebuilt from the clips, about 2 minutes; numbers from ``facesel eval tracks``'
cache):
    python experiments/pick_consensus.py --cache-dir /tmp/pick-cache/tracks
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np

from facesel.cli.eval import _expand_videos
from facesel.data import data_root
from facesel.eval import track_metrics as tm
from facesel.eval.track_bench import load_benchmark
from facesel.eval.track_heldout import fast_metrics, held_out_choice
from facesel.eval.track_metrics import grouped_bootstrap_mean
from facesel.eval.track_rules import build_rule
from facesel.scoring.consensus import edge_signatures

VIDEOS = ["arcade_walkers_1080p.mp4", "intel_face_demographics_walking.gif", "intel_head_pose_female.gif",
          "selfie_motion_blur_portrait.mp4", "otb_girl/img", "more"]


def _unit(rows: np.ndarray) -> np.ndarray:
    rows = rows.reshape(len(rows), -1).astype(np.float32)
    rows = rows - rows.mean(axis=1, keepdims=True)
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-6)


def _blur(crops, k):
    return np.array([cv2.GaussianBlur(c.astype(np.float32), (k, k), 0) for c in crops])


REPRESENTATIONS = {
    "pixels": _unit,
    "pixels blurred": lambda c: _unit(_blur(c, 5)),
    "edges": edge_signatures,
    "edges blurred": lambda c: _unit(_blur(edge_signatures(c).reshape(-1, 64, 64), 7)),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache-dir", type=Path, required=True)
    ap.add_argument("--window", type=float, default=4.0)
    args = ap.parse_args()
    videos = _expand_videos([data_root() / "videos" / v for v in VIDEOS])
    bench = load_benchmark(videos, {}, cache_dir=args.cache_dir, window=args.window, crops_needed=True)
    obs, views = bench.observations, bench.views
    smoothed = [tm.smooth(o.distances) for o in obs]
    rand = np.array([s.mean() - s.min() for s in smoothed])
    clips = np.array([o.clip for o in obs])
    sources = np.array([o.source for o in obs])
    tracks = defaultdict(list)  # windows of one track: the average is the track's, not the window's
    for i, o in enumerate(obs):
        tracks[(o.clip, o.track_id)].append(i)

    def gain(score_of) -> np.ndarray:
        return np.array([fast_metrics(score_of(i), obs[i].distances, smoothed[i])[0] for i in range(len(obs))]) - rand

    def show(name, values):
        m, lo, hi = grouped_bootstrap_mean(values, clips)
        print(f"  {name:<58} {m:+.4f} [{lo:+.4f}, {hi:+.4f}]")

    print(f"{len(obs)} windows, {len(set(clips))} clips, {len(set(sources))} sources; smoothed regret - random:")
    print("1. the family, each member alone (the track's average of all its crops)")
    family, names = [], []
    for rep_name, rep in REPRESENTATIONS.items():
        sig = {i: rep(views[i].crops) for i in range(len(obs))}
        for how in ("mean", "median"):
            score = {}
            for idx in tracks.values():
                every = np.concatenate([sig[i] for i in idx])
                centre = every.mean(axis=0) if how == "mean" else np.median(every, axis=0)
                for i in idx:
                    score[i] = (sig[i] @ (centre / np.linalg.norm(centre)) if how == "mean"
                                else -np.linalg.norm(sig[i] - centre, axis=1))
            family.append(gain(lambda i: score[i]))
            names.append(f"{rep_name}, {how}")
            show(names[-1], family[-1])
    family = np.array(family)
    chosen, per_fold = held_out_choice(family, sources)
    held = family[chosen, np.arange(len(obs))]
    show("chosen leave-one-source-out", held)
    print("  choices by source left out:", {k: names[v] for k, v in sorted(per_fold.items())})
    for single in ("detector", "sharpness", "face-size", "frontal", "default"):
        rule = build_rule(single)
        show(f"held-out consensus - {single} (paired)", held - gain(lambda i: np.nan_to_num(rule(views[i]), nan=-1e9)))

    print("2. as the Selector runs it (edges, mean): average of the aligned crops, choice among K finalists")
    edges = {i: edge_signatures(views[i].crops) for i in range(len(obs))}
    context = {i: np.nan_to_num(np.asarray(views[i].signals["default_context"], np.float64), nan=-1e9)
               for i in range(len(obs))}
    default = gain(lambda i: context[i])
    show("default (context rule)", default)
    for k in (3, 8, 16, 32):
        centre = {}
        for key, idx in tracks.items():
            values = np.concatenate([context[i] for i in idx])
            admitted = np.array([r < k or values[r] > np.sort(values[:r])[-k] for r in range(len(values))])
            mean = np.concatenate([edges[i] for i in idx])[admitted].mean(axis=0)
            centre[key] = mean / np.linalg.norm(mean)

        def live(i, k=k):
            top = np.argsort(-context[i], kind="stable")[:k]
            s = np.full(len(context[i]), -1e9)
            s[top] = edges[i][top] @ centre[(obs[i].clip, obs[i].track_id)]
            return s

        values = gain(live)
        show(f"K = {k}", values)
        show(f"K = {k} - default (paired)", values - default)
        if k == 16:  # by source: where the shipped setting gains and where it loses
            for source in sorted(set(sources)):
                rows = sources == source
                print(f"    {source:<40} {rows.sum():3d} windows  K=16 - default {np.mean((values - default)[rows]):+.4f}")


if __name__ == "__main__":
    main()
