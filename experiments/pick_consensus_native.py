"""The consensus pick as the Selector can run it, with blur judged on the native frame: a family
of variants, every figure held out by source.

Session 10 (``experiments/pick_consensus_robust.py``) found the best consensus held out by source
(gradient-orientation histograms, median reference over all of a track's crops: -0.018 against a
random frame) but only -0.013 as the Selector runs it, and every variant picked blurred frames on
the motion-blurred selfie unless it gave up its gain. This experiment measures, in one family:

* **reference** (what the track's typical crop is built from), as the Selector would build it:
  ``admitted``: only the crops the sparse mode aligns (those that joined the track's K best by the
  context screen when they came; what ``consensus_finalists`` does today), or ``all``: every crop
  the policy looks at (the Selector would align every crop of a track: the cost is measured
  separately); and its statistic: ``mean`` (a running sum, no storage) or ``median`` (per
  coordinate, needs each crop's signature kept: 576 numbers a crop for the histograms);
* **signature**: ``hog`` (orientation histograms) or ``edges`` (today's Sobel edge image);
* **finalists** ``K``: the window's 16 or 32 best by the context screen (what the store keeps);
* **combination** with a native-frame sharpness (:mod:`facesel.scoring.native_blur`: ``band
  ratio`` or ``gradient``, both measured on the face box at the frame's own resolution, up to 256
  pixels): ``alone`` (consensus only), ``gate track`` (among finalists at least as sharp as the
  track's median crop, the best consensus; all finalists if none), ``gate finalists`` (the same
  with the finalists' own median), ``rank-sum`` (rank of consensus + rank of sharpness among the
  finalists, ties by consensus).

2 x 4 x 2 x 7 = 112 variants. Each is scored on the 4-s windows of ``facesel eval tracks``
(smoothed regret minus a random frame's, 95 % intervals by a bootstrap over clips), and checked on
the selfie as tests/test_selector_videos.py judges it (exhaustive mode, the default scorer's 16
best, the test's own sharpness of the pick against its track's median). Then held-out choices,
leave-one-source-out, over the whole family and over the variants that pass the selfie check,
each paired against random, the default (context rule) and every single signal, with the share
of matchable picks.

Run (after ``facesel eval tracks`` filled the cache; the first run decodes each clip once, about
a minute, then reads ``native-*.npz`` beside the track cache):
    python experiments/pick_consensus_native.py --cache-dir /tmp/pick-cache/tracks

``--family frontal`` (session 16) runs instead the pre-registered family of
``experiments/consensus_frontal.py``: the default's finalists and gate, with the reference built
from the track's upright, frontal crops only (by the screen or by the landmarks), compared by the
median or a medoid, from the admitted or from every crop (20 candidates, chosen leave-one-source-out):
    nice -n 5 python experiments/pick_consensus_native.py --cache-dir /tmp/pick-cache/tracks --family frontal [--window 2]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from scipy.stats import rankdata

from facesel.cli.eval import _expand_videos
from facesel.data import data_root
from facesel.eval import track_metrics as tm
from facesel.eval.track_bench import load_benchmark
from facesel.eval.track_data import collect_tracks
from facesel.eval.track_heldout import fast_metrics, held_out_choice
from facesel.eval.track_metrics import grouped_bootstrap_mean
from facesel.eval.track_native import native_features
from facesel.eval.track_persons import frontal_mask
from facesel.eval.track_rules import build_rule
from facesel.eval.track_signals import video_signals
from facesel.scoring.native_blur import MEASURES

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pick_consensus_robust import VIDEOS, selfie_tracks  # noqa: E402

SIGNATURES = ("hog", "edges")
REFERENCES = ("admitted, mean", "admitted, median", "all, mean", "all, median")
FINALISTS = (16, 32)
OLD = "edges, admitted, mean, K=16, alone"
"""Session 9's consensus pick (``consensus_finalists=16`` before this experiment's settings)."""
COMBINATIONS = ("alone",) + tuple(f"{how}, {m}" for m in MEASURES for how in ("gate track", "gate finalists", "rank-sum"))


def unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.sqrt(np.square(v).sum())), 1e-12)


def track_reference(sigs: np.ndarray, admitted: np.ndarray, how: str) -> np.ndarray:
    """Unit (D,) reference of one track from its (N, D) signatures in frame order."""
    which, stat = how.split(", ")
    rows = sigs[admitted] if which == "admitted" else sigs
    return unit(rows.mean(axis=0) if stat == "mean" else np.median(rows, axis=0))


def admitted_mask(ctx: np.ndarray, k: int) -> np.ndarray:
    """(N,) bool: crops that joined the track's ``k`` best by the screen when they came (aligned by the sparse mode)."""
    out = np.zeros(len(ctx), bool)
    best: list[float] = []
    for r, v in enumerate(ctx.tolist()):
        if len(best) < k or v > best[-1]:
            out[r] = True
            best.append(v)
            best.sort(reverse=True)
            del best[k:]
    return out


def pick_scores(comb: str, agreement: np.ndarray, sharp: np.ndarray, track_median: float) -> np.ndarray:
    """(n,) scores of n finalists: higher is chosen."""
    if comb == "alone":
        return agreement
    how, _measure = comb.split(", ")
    s = np.nan_to_num(sharp, nan=-np.inf)
    if how == "rank-sum":
        return rankdata(agreement) + rankdata(s) + 1e-9 * agreement
    threshold = track_median if how == "gate track" else np.median(s)
    passing = s >= threshold
    if not passing.any():
        return agreement
    return np.where(passing, agreement, -np.inf)


def load(args) -> SimpleNamespace:
    """The benchmark's windows and, per track, every crop's signals in frame order, with the
    per-window metric and its printing shared by both families."""
    videos = _expand_videos([data_root() / "videos" / v for v in args.videos])
    bench = load_benchmark(videos, {}, cache_dir=args.cache_dir, window=args.window)
    obs, views = bench.observations, bench.views
    n = len(obs)
    # per track, every crop in frame order (not only the eligible windows'): what the Selector sees
    tracks, row_of = {}, {}
    for path in videos:
        video = collect_tracks(path, cache_dir=args.cache_dir, with_crops=False)
        signals = video_signals(video, video.key, args.cache_dir)
        feats = native_features(path, args.cache_dir)
        frontal = frontal_mask(video.context)
        for idx in video.track_slices():
            key = (video.name, int(video.context.track_ids[idx[0]]))
            tracks[key] = {"ctx": np.nan_to_num(signals["default_context"][idx], nan=-1e9),
                           "frontal": frontal[idx],
                           **{name: np.asarray(signals[name][idx], np.float64) for name in ("yaw", "roll", "pitch")},
                           **{name: feats[name][idx].astype(np.float64) for name in feats}}
            row_of[key] = {int(r): p for p, r in enumerate(idx.tolist())}
    smoothed = [tm.smooth(o.distances) for o in obs]
    rand = np.array([s.mean() - s.min() for s in smoothed])
    clips = np.array([o.clip for o in obs])
    sources = np.array([o.source for o in obs])
    pos = [np.array([row_of[(o.clip, o.track_id)][int(r)] for r in o.rows]) for o in obs]
    context = [tracks[(o.clip, o.track_id)]["ctx"][p] for o, p in zip(obs, pos)]

    def metrics(score_of):
        """(T,) smoothed regret - random and (T,) matchable of the picks of ``score_of(i)``."""
        m = np.array([fast_metrics(score_of(i), obs[i].distances, smoothed[i]) for i in range(n)])
        return m[:, 0] - rand, m[:, 2]

    def show(name, values, width=58):
        m, lo, hi = grouped_bootstrap_mean(values, clips)
        return f"{name:<{width}} {m:+.4f} [{lo:+.4f}, {hi:+.4f}]"

    default, default_match = metrics(lambda i: context[i])
    singles = {}
    for single in ("detector", "sharpness", "face-size", "frontal"):
        rule = build_rule(single)
        singles[single] = metrics(lambda i, rule=rule: np.nan_to_num(rule(views[i]), nan=-1e9))[0]
    print(f"{n} windows, {len(set(clips))} clips, {len(set(sources))} sources, {len(tracks)} tracks; "
          "smoothed regret - random [95 % clip-grouped interval]")
    print(show("default (context rule)", default) + f"  matchable {default_match.mean():.3f}")
    return SimpleNamespace(obs=obs, n=n, tracks=tracks, pos=pos, clips=clips, sources=sources, context=context,
                           metrics=metrics, show=show, default=default, singles=singles)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache-dir", type=Path, required=True)
    ap.add_argument("--window", type=float, default=4.0)
    ap.add_argument("--videos", nargs="*", default=VIDEOS, help="under the shared videos folder")
    ap.add_argument("--no-selfie", action="store_true", help="skip the selfie check (faster)")
    ap.add_argument("--finalists", nargs="+", type=int, default=list(FINALISTS),
                    help="K values (a K above every track's length: the choice among the whole window)")
    ap.add_argument("--family", choices=("variants", "frontal"), default="variants",
                    help="variants: session 11's 112; frontal: session 16's references from the frontal crops "
                    "(experiments/consensus_frontal.py; K = 32 and the gradient gate, --finalists ignored)")
    args = ap.parse_args()
    d = load(args)
    selfie = [] if args.no_selfie else selfie_tracks()
    if args.family == "frontal":
        from consensus_frontal import run_frontal_family

        run_frontal_family(d, selfie)
    else:
        run_variants(d, selfie, args.finalists)


def run_variants(d: SimpleNamespace, selfie: list, finalists: list) -> None:
    """Session 11's 112 variants (signature x reference x K x combination) and their held-out choices."""
    obs, n, tracks, pos, context, metrics, show = d.obs, d.n, d.tracks, d.pos, d.context, d.metrics, d.show
    default, sources = d.default, d.sources
    print("columns: variant | - random | - default (paired) | matchable | selfie (test's measure: pick / track median)")
    names, gains, matches, selfie_ok = [], [], [], []
    for sig in SIGNATURES:
        for ref in REFERENCES:
            for k in finalists:
                refs = {key: track_reference(t[sig], admitted_mask(t["ctx"], k), ref) for key, t in tracks.items()}
                agree = {key: t[sig] @ refs[key] for key, t in tracks.items()}
                for comb in COMBINATIONS:
                    measure = comb.split(", ")[1] if comb != "alone" else None

                    def score_of(i):
                        key = (obs[i].clip, obs[i].track_id)
                        t, p = tracks[key], pos[i]
                        top = np.argsort(-context[i], kind="stable")[:k]
                        sharp = t[measure][p][top] if measure else None
                        med = float(np.nanmedian(t[measure])) if measure else 0.0
                        out = np.full(len(p), -np.inf)
                        out[top] = pick_scores(comb, agree[key][p][top], sharp, med)
                        return out

                    g, m = metrics(score_of)
                    names.append(f"{sig}, {ref}, K={k}, {comb}")
                    gains.append(g)
                    matches.append(m)
                    check = []
                    for st in selfie:  # exhaustive mode: every crop aligned, finalists by full score
                        s = sig_fn(sig)(st["greys"])
                        r = unit(s.mean(axis=0) if ref.endswith("mean") else np.median(s, axis=0))
                        top = np.array(sorted(range(len(st["quality"])), key=lambda j: (-st["quality"][j], st["frames"][j]))[:k])
                        sh = st["measures"][measure][top] if measure else None
                        med = float(np.nanmedian(st["measures"][measure])) if measure else 0.0
                        j = top[int(np.argmax(pick_scores(comb, s[top] @ r, sh, med)))]
                        check.append((float(st["native"][j]), float(np.median(st["native"]))))
                    selfie_ok.append(bool(check) and all(a > b for a, b in check))
                    print(f"{show(names[-1], g)} | {show('', g - default, 0)} | {m.mean():.3f} | "
                          f"{' '.join(f'{a:.1f}/{b:.1f}' for a, b in check)} {'fixed' if selfie_ok[-1] else 'NOT fixed'}",
                          flush=True)
    gains, matches, selfie_ok = np.array(gains), np.array(matches), np.array(selfie_ok)
    families = [("every variant", np.arange(len(names))),
                ("the variants that fix the selfie", np.flatnonzero(selfie_ok)),
                ("admitted references only (no extra alignment)", np.array([j for j, s in enumerate(names) if "admitted" in s])),
                ("admitted references that fix the selfie", np.array([j for j, s in enumerate(names) if "admitted" in s and selfie_ok[j]]))]
    for label, members in families:
        if len(members) == 0:
            print(f"\n{label}: none")
            continue
        chosen, per_fold = held_out_choice(gains[members], sources)
        held = gains[members][chosen, np.arange(n)]
        held_match = matches[members][chosen, np.arange(n)]
        print(f"\nchosen leave-one-source-out among {label} ({len(members)} candidates):")
        print("  " + show("held out - random", held) + f"  matchable {held_match.mean():.3f}")
        print("  " + show("held out - default (paired)", held - default))
        if OLD in names:  # not when --finalists leaves out K = 16
            print("  " + show("held out - session 9's consensus (paired)", held - gains[names.index(OLD)]))
        for single, values in d.singles.items():
            print("  " + show(f"held out - {single} (paired)", held - values))
        for source in sorted(set(sources)):
            rows = sources == source
            j = members[per_fold[source]]
            print(f"    {source:<28} {rows.sum():3d} windows  held out {np.mean(held[rows]):+.4f}  "
                  f"- default {np.mean((held - default)[rows]):+.4f}  ({names[j]}; selfie {'fixed' if selfie_ok[j] else 'NOT fixed'})")


def sig_fn(name: str):
    from facesel.scoring.consensus import edge_signatures, hog_signatures

    return hog_signatures if name == "hog" else (lambda g: edge_signatures(g).astype(np.float64))


if __name__ == "__main__":
    main()
