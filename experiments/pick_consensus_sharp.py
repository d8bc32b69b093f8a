"""Exploratory, one variant stated before it was measured (not selected among several): the
consensus pick with its track's average built only from the admitted crops at or above their
median sharpness (the motion-blurred selfie's consensus pick was blurred), K = 16; paired against
the default and against the shipped consensus, by source. Same 129 windows as
experiments/pick_consensus.py (whose cache it reads).

    python experiments/pick_consensus_sharp.py --cache-dir /tmp/pick-cache/tracks
"""
import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pick_consensus as pc
from facesel.cli.eval import _expand_videos
from facesel.data import data_root
from facesel.eval import track_metrics as tm
from facesel.eval.track_bench import load_benchmark
from facesel.eval.track_heldout import fast_metrics
from facesel.eval.track_metrics import grouped_bootstrap_mean
from facesel.scoring.consensus import edge_signatures

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--cache-dir", type=Path, required=True)
args = ap.parse_args()
videos = _expand_videos([data_root() / "videos" / v for v in pc.VIDEOS])
bench = load_benchmark(videos, {}, cache_dir=args.cache_dir, window=4.0, crops_needed=True)
obs, views = bench.observations, bench.views
smoothed = [tm.smooth(o.distances) for o in obs]
rand = np.array([s.mean() - s.min() for s in smoothed])
clips = np.array([o.clip for o in obs]); sources = np.array([o.source for o in obs])
tracks = defaultdict(list)
for i, o in enumerate(obs):
    tracks[(o.clip, o.track_id)].append(i)
gain = lambda f: np.array([fast_metrics(f(i), obs[i].distances, smoothed[i])[0] for i in range(len(obs))]) - rand
edges = {i: edge_signatures(views[i].crops) for i in range(len(obs))}
ctx = {i: np.nan_to_num(np.asarray(views[i].signals["default_context"], np.float64), nan=-1e9) for i in range(len(obs))}
sharp = {i: np.asarray(views[i].signals["sharpness"], np.float64) for i in range(len(obs))}
default = gain(lambda i: ctx[i])
res = {}
for variant in ("all admitted", "sharper half of admitted"):
    centre = {}
    for key, idx in tracks.items():
        values = np.concatenate([ctx[i] for i in idx])
        admitted = np.array([r < 16 or values[r] > np.sort(values[:r])[-16] for r in range(len(values))])
        e = np.concatenate([edges[i] for i in idx])[admitted]
        if variant != "all admitted":
            s = np.concatenate([sharp[i] for i in idx])[admitted]
            e = e[s >= np.median(s)]
        m = e.mean(axis=0); centre[key] = m / np.linalg.norm(m)
    def live(i, centre=centre):
        top = np.argsort(-ctx[i], kind="stable")[:16]
        s = np.full(len(ctx[i]), -1e9); s[top] = edges[i][top] @ centre[(obs[i].clip, obs[i].track_id)]
        return s
    res[variant] = gain(live)
    m, lo, hi = grouped_bootstrap_mean(res[variant] - default, clips)
    print(f"{variant:<28} - default {m:+.4f} [{lo:+.4f}, {hi:+.4f}]")
m, lo, hi = grouped_bootstrap_mean(res["sharper half of admitted"] - res["all admitted"], clips)
print(f"sharper half - all admitted {m:+.4f} [{lo:+.4f}, {hi:+.4f}]")
for src in sorted(set(sources)):
    r = sources == src
    print(f"  {src:<30} {r.sum():3d}  all {np.mean((res['all admitted'] - default)[r]):+.4f}  sharper half {np.mean((res['sharper half of admitted'] - default)[r]):+.4f}")
