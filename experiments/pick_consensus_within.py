"""New within-track signals on top of the default consensus pick: a pre-specified family, every
figure held out by source.

The default pick since session 11 (``experiments/pick_consensus_native.py``): among a window's 32
best crops by the context screen, those at least as sharp in their native frame (``gradient``) as
the track's median crop, keep the one whose orientation histogram (``hog``) is most like the
per-coordinate median of the track's aligned crops (those that joined the track's 32 best when they
came). Held out by source: -0.0147 [-0.0220, -0.0074] against a random frame; issue 22's bar is
-0.02. This experiment asks whether a NEW cheap, unsupervised signal, combined with that pick by a
rule with no fitted weight, moves the held-out figure.

The family, written down before any of it was run on the benchmark (21 candidates). Every
candidate keeps the default's finalists (the window's 32 best by the context screen) and its
native-sharpness gate (finalists at least as sharp as the track's median ``gradient``; all of them
when none is); only the order among the gated finalists changes. Ties of a rank sum go to the
higher consensus ``A``. Signals of a crop:

* ``A``: cosine of its histogram with the track's reference (the default's signal).
* ``R3``: the worst of three facial bands' cosines with the same bands of the reference (8x8 HOG
  cells; the ArcFace template puts the eyes at y = 29.5, the nose at 41, the mouth at 52.7 of 64:
  eye band = cell rows 2-3, nose band = rows 4-5, mouth band = rows 6-7): a hand over the mouth or
  a blink lowers one band a lot and the whole-face cosine a little.
* ``R2``: the worst of the left and right halves (cell columns 0-3, 4-7): a hand or a turn on one side.
* ``R5``: the worst of those five regions.
* ``S`` (temporal stability of appearance): mean cosine of its histogram with its track
  neighbours' (the crops just before and after it in the track): a crop mid-turn or mid-gesture
  differs from both neighbours.
* ``M`` (box motion): minus the displacement of the box centre between the previous and the next
  crop of the track, over the box side and per frame: a moving head is motion-blurred and mid-turn.
* ``A±1``, ``A±2``: ``A`` averaged over the crop and its 1 (2) neighbours on each side in the track:
  a crop in a stable typical stretch, not a lone typical-looking frame.
* ``W1``, ``W2``: cosine with the median of the aligned (admitted) crops within 1 (2) s of it
  (the whole track's when fewer than 3): a reference that follows a slow drift of light or pose.
* ``det``: the detector's confidence; ``front``: minus the sum of squared yaw, pitch and roll from
  the landmarks (``facesel.eval.track_heldout.TEMPORAL_BASES["frontal"]``).

Candidates (``rank`` = rank among the gated finalists; "gate X" = among the gated finalists those
with X at least the finalists' median, then the best ``A``):

 1. ``A`` (the default)            8. rank A + rank det             15. W1
 2. R3                             9. rank A + rank front           16. W2
 3. R2                            10. rank A + rank det + rank front 17. rank A + rank W2
 4. R5                            11. gate S, then A                18. gate det, then A
 5. rank A + rank R3              12. gate M, then A                19. gate front, then A
 6. rank A + rank S               13. A±1                           20. rank R3 + rank S
 7. rank A + rank M               14. A±2                           21. rank A + rank S + rank M

Then the choice leave-one-source-out (each source judged by the candidate best on the other
nine; :func:`facesel.eval.track_heldout.held_out_choice`), reported against random, paired against
the default (candidate 1), the context rule and every single signal (detector, sharpness, size,
frontal), with 95 % intervals by a bootstrap over clips, and the share of matchable picks. The
per-candidate rows are each a fixed rule (no choice made on data), shown so that the family can
be read; only the held-out row answers the question.

**A second family, "the agreement's form"** (``--family form``; written down after the first was
run and found no gain, before this one was run; ``--family both`` chooses among the union of
the two, 28 candidates, the honest figure for "the best of everything tried here"). All compare
the crop with the same reference (the median of the admitted crops), after the same gate; only
how closeness is measured changes:

 1. ``A`` (cosine; the default)
 2. ``L1``: minus the sum of absolute differences (the median is the centre that minimises it)
 3. ``zL1``: the same with each coordinate divided by its spread in the track (the median absolute
    deviation of the admitted crops, plus the median of those spreads as a floor): a coordinate
    that varies along the track anyway (a talking mouth) counts less than a stable one
 4. ``zL2``: the same standardised differences, squared
 5. ``cells mean``: the mean over the 64 cells of each cell's cosine with the reference's cell
 6. ``cells median``: their median
 7. ``cells trimmed``: their mean without the worst 20 % (13 cells): a hand over a few cells is ignored
 8. ``cells q25``: their lower quartile: a crop whose worst quarter of the face is least disturbed

What the Selector would need: ``R3``/``R2``/``R5``/``W*`` only the finalists' rows and the stored
reference rows it already has; ``M`` only the boxes (always known); ``S`` and ``A±k`` the
histograms of the finalists' neighbours in the track, which the sparse mode does not align today
(in this benchmark every crop of every detected frame has one).

Run (after ``facesel eval tracks`` and ``pick_consensus_native.py`` filled the cache):
    nice -n 5 python experiments/pick_consensus_within.py --cache-dir /tmp/pick-cache/tracks
``--videos intel_head_pose_female.gif otb_girl/img selfie_motion_blur_portrait.mp4`` runs a subset
(3 sources, 10 windows, seconds); the whole run about a minute a family. Results (session 12) in
docs/model_card.md ("New signals on top of the consensus pick") and docs/eval/tracks/consensus_within.txt.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

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
from facesel.eval.track_rules import build_rule
from facesel.eval.track_signals import video_signals

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pick_consensus_native import admitted_mask, unit  # noqa: E402
from pick_consensus_robust import VIDEOS  # noqa: E402

K = 32
GRID, BINS = 8, 9
BANDS = {"eyes": (slice(2, 4), slice(0, 8)), "nose": (slice(4, 6), slice(0, 8)), "mouth": (slice(6, 8), slice(0, 8))}
HALVES = {"left": (slice(0, 8), slice(0, 4)), "right": (slice(0, 8), slice(4, 8))}

WITHIN = (
    ("A",), ("R3",), ("R2",), ("R5",), ("rank", "A", "R3"), ("rank", "A", "S"), ("rank", "A", "M"),
    ("rank", "A", "det"), ("rank", "A", "front"), ("rank", "A", "det", "front"), ("gate", "S"), ("gate", "M"),
    ("A±1",), ("A±2",), ("W1",), ("W2",), ("rank", "A", "W2"), ("gate", "det"), ("gate", "front"),
    ("rank", "R3", "S"), ("rank", "A", "S", "M"),
)
FORM = (("A",), ("L1",), ("zL1",), ("zL2",), ("cells mean",), ("cells median",), ("cells trimmed",), ("cells q25",))
FAMILIES = {"within": WITHIN, "form": FORM, "both": WITHIN + FORM[1:]}


def describe(c: tuple) -> str:
    if c[0] == "rank":
        return "rank " + " + rank ".join(c[1:])
    if c[0] == "gate":
        return f"gate {c[1]}, then A"
    return c[0]


def region_cosines(sigs: np.ndarray, ref: np.ndarray, regions: dict) -> np.ndarray:
    """(N, R) cosine of each region's sub-vector of (N, 576) histograms with the reference's."""
    s = sigs.reshape(len(sigs), GRID, GRID, BINS)
    r = ref.reshape(GRID, GRID, BINS)
    out = []
    for rows, cols in regions.values():
        a = s[:, rows, cols].reshape(len(s), -1)
        b = r[rows, cols].reshape(-1)
        out.append(a @ b / np.maximum(np.linalg.norm(a, axis=1) * np.linalg.norm(b), 1e-12))
    return np.stack(out, axis=1)


def neighbour_mean(values: np.ndarray, half: int) -> np.ndarray:
    """(N,) mean of ``values`` over each crop and its ``half`` neighbours on each side (fewer at the ends)."""
    c = np.concatenate([[0.0], np.cumsum(values)])
    i = np.arange(len(values))
    lo, hi = np.maximum(i - half, 0), np.minimum(i + half + 1, len(values))
    return (c[hi] - c[lo]) / (hi - lo)


def track_signals(hog: np.ndarray, ctx: np.ndarray, frames: np.ndarray, boxes: np.ndarray, fps: float) -> dict:
    """Every candidate signal of every crop of one track, (N,) each, in frame order."""
    admitted = admitted_mask(ctx, K)
    ref = unit(np.median(hog[admitted], axis=0))
    out = {"A": hog @ ref}
    bands, halves = region_cosines(hog, ref, BANDS), region_cosines(hog, ref, HALVES)
    out["R3"], out["R2"] = bands.min(axis=1), halves.min(axis=1)
    out["R5"] = np.minimum(out["R3"], out["R2"])
    n = len(hog)
    nb = np.zeros(n)
    if n > 1:
        step = np.einsum("ij,ij->i", hog[1:], hog[:-1])  # cosine of consecutive crops (unit rows)
        before = np.concatenate([[np.nan], step])
        after = np.concatenate([step, [np.nan]])
        nb = np.nanmean(np.stack([before, after]), axis=0)
    out["S"] = nb
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    side = np.sqrt(np.maximum((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]), 1.0))
    prev, nxt = np.maximum(np.arange(n) - 1, 0), np.minimum(np.arange(n) + 1, n - 1)
    gap = np.maximum(frames[nxt] - frames[prev], 1)
    out["M"] = -np.linalg.norm(centre[nxt] - centre[prev], axis=1) / side / gap if n > 1 else np.zeros(n)
    out["A±1"], out["A±2"] = neighbour_mean(out["A"], 1), neighbour_mean(out["A"], 2)
    # A±2 from the crops the sparse mode aligns anyway (itself and its admitted neighbours): what
    # the Selector could compute from the reference rows it keeps, with no extra alignment
    out["A±2 admitted"] = np.array([out["A"][[k for k in range(max(0, j - 2), min(n, j + 3)) if admitted[k] or k == j]].mean()
                                    for j in range(n)])
    out.update(form_signals(hog, admitted, ref))
    seconds = frames / fps
    adm = np.flatnonzero(admitted)
    for w in (1, 2):
        local = np.empty(n)
        for j in range(n):
            near = adm[np.abs(seconds[adm] - seconds[j]) <= w]
            r = ref if len(near) < 3 else unit(np.median(hog[near], axis=0))
            local[j] = hog[j] @ r
        out[f"W{w}"] = local
    return out


def form_signals(hog: np.ndarray, admitted: np.ndarray, ref: np.ndarray) -> dict:
    """The second family's closeness of every crop (N, 576) to the reference, (N,) each, higher closer."""
    centre = np.median(hog[admitted], axis=0)
    diff = hog - centre
    spread = np.median(np.abs(hog[admitted] - centre), axis=0)
    spread = spread + np.median(spread)
    cells = region_cosines(hog, ref, {c: (slice(c // GRID, c // GRID + 1), slice(c % GRID, c % GRID + 1))
                                      for c in range(GRID * GRID)})
    worst_dropped = np.sort(cells, axis=1)[:, 13:]
    return {"L1": -np.abs(diff).sum(axis=1), "zL1": -np.abs(diff / spread).sum(axis=1),
            "zL2": -np.square(diff / spread).sum(axis=1), "cells mean": cells.mean(axis=1),
            "cells median": np.median(cells, axis=1), "cells trimmed": worst_dropped.mean(axis=1),
            "cells q25": np.quantile(cells, 0.25, axis=1)}


def candidate_scores(c: tuple, sig: dict) -> np.ndarray:
    """(n,) scores of the n gated finalists (higher is kept)."""
    a = sig["A"]
    if c[0] == "rank":
        return sum(rankdata(sig[name]) for name in c[1:]) + 1e-9 * a
    if c[0] == "gate":
        v = sig[c[1]]
        return np.where(v >= np.median(v), a, -np.inf)
    return sig[c[0]]


def candidate_table(candidates, score_of, metrics, show, describe):
    """Print one row per fixed candidate (its figure against random, against candidate 0 paired,
    matchable) and return (C, T) arrays: gains against random, matchable, unsmoothed gains.

    ``score_of(i, c)`` gives window ``i``'s crops' scores under candidate ``c``; ``metrics`` and
    ``show`` are the caller's (smoothed regret - random per window; a clip-grouped interval)."""
    gains, matches, raws = [], [], []
    for c in candidates:
        g, m, r = metrics(lambda i, c=c: score_of(i, c))
        gains.append(g)
        matches.append(m)
        raws.append(r)
        print(f"{show(describe(c), g)} | {show('', g - gains[0], 0)} | {m.mean():.3f}", flush=True)
    return np.array(gains), np.array(matches), np.array(raws)


def held_out_rows(gains, matches, raws, sources, context, show, what: str):
    """The leave-one-source-out choice among the rows of ``gains`` (C, T), printed against random,
    the default (row 0, paired) and the context rule; returns (held (T,), per_fold: source -> row)."""
    n = gains.shape[1]
    chosen, per_fold = held_out_choice(gains, sources)
    held = gains[chosen, np.arange(n)]
    print(f"\nchosen leave-one-source-out among the {what}:")
    print("  " + show("held out - random", held) + f"  matchable {matches[chosen, np.arange(n)].mean():.3f}")
    print("  " + show("held out - default consensus (paired)", held - gains[0]))
    print("  " + show("held out - context rule (paired)", held - context))
    # the metric's own smoothing (5 consecutive crops) and A±2's are alike: the same picks judged
    # on the plain distance, so that a gain is not only the metric rewarding its own smoothing
    held_raw = raws[chosen, np.arange(n)]
    print("  " + show("unsmoothed regret: held out - random", held_raw))
    print("  " + show("unsmoothed regret: - default consensus", held_raw - raws[0]))
    return held, per_fold


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache-dir", type=Path, required=True)
    ap.add_argument("--window", type=float, default=4.0)
    ap.add_argument("--videos", nargs="*", default=VIDEOS, help="under the shared videos folder")
    ap.add_argument("--family", choices=sorted(FAMILIES), default="within",
                    help="within: the 21 candidates; form: the 8 of the second family; both: their union (28)")
    ap.add_argument("--diagnose", action="store_true",
                    help="also print each signal's within-window Spearman correlation with the smoothed distance")
    args = ap.parse_args()
    family = FAMILIES[args.family]
    videos = _expand_videos([data_root() / "videos" / v for v in args.videos])
    bench = load_benchmark(videos, {}, cache_dir=args.cache_dir, window=args.window)
    obs, views = bench.observations, bench.views
    n = len(obs)
    tracks, row_of = {}, {}
    for path in videos:
        video = collect_tracks(path, cache_dir=args.cache_dir, with_crops=False)
        signals = video_signals(video, video.key, args.cache_dir)
        feats = native_features(path, args.cache_dir)
        for idx in video.track_slices():
            key = (video.name, int(video.context.track_ids[idx[0]]))
            ctx = np.nan_to_num(signals["default_context"][idx], nan=-1e9)
            hog = feats["hog"][idx].astype(np.float64)
            t = track_signals(hog, ctx, np.asarray(video.frame_indices[idx], np.float64),
                              np.asarray(video.context.boxes[idx], np.float64), float(video.fps))
            t["det"] = np.asarray(signals["det"][idx], np.float64)
            t["front"] = -(np.nan_to_num(signals["yaw"][idx], nan=1.0) ** 2 + np.nan_to_num(signals["roll"][idx], nan=1.0) ** 2
                           + np.nan_to_num(signals["pitch"][idx], nan=1.0) ** 2)
            t["ctx"], t["gradient"] = ctx, feats["gradient"][idx].astype(np.float64)
            tracks[key] = t
            row_of[key] = {int(r): p for p, r in enumerate(idx.tolist())}
    smoothed = [tm.smooth(o.distances) for o in obs]
    rand = np.array([s.mean() - s.min() for s in smoothed])
    clips = np.array([o.clip for o in obs])
    sources = np.array([o.source for o in obs])
    pos = [np.array([row_of[(o.clip, o.track_id)][int(r)] for r in o.rows]) for o in obs]

    raw_rand = np.array([o.distances.mean() - o.distances.min() for o in obs])

    def metrics(score_of):
        """(T,) smoothed regret - random, (T,) matchable, (T,) unsmoothed regret - random."""
        m = np.array([fast_metrics(score_of(i), obs[i].distances, smoothed[i]) for i in range(n)])
        return m[:, 0] - rand, m[:, 2], m[:, 1] - raw_rand

    def show(name, values, width=40):
        m, lo, hi = grouped_bootstrap_mean(values, clips)
        return f"{name:<{width}} {m:+.4f} [{lo:+.4f}, {hi:+.4f}]"

    context, _, _ = metrics(lambda i: tracks[(obs[i].clip, obs[i].track_id)]["ctx"][pos[i]])
    singles = {}
    for single in ("detector", "sharpness", "face-size", "frontal"):
        rule = build_rule(single)
        singles[single] = metrics(lambda i, rule=rule: np.nan_to_num(rule(views[i]), nan=-1e9))[0]

    def gated_finalists(i):
        t, p = tracks[(obs[i].clip, obs[i].track_id)], pos[i]
        top = np.argsort(-t["ctx"][p], kind="stable")[:K]
        sharp = np.nan_to_num(t["gradient"][p][top], nan=-np.inf)
        passing = sharp >= float(np.nanmedian(t["gradient"]))
        return t, p, top[passing] if passing.any() else top

    if args.diagnose:
        # descriptive, no choice: does a signal order a window's crops like the ground truth does?
        # (every crop of the window, not only the finalists; negative = higher signal, closer to the person)
        from scipy.stats import spearmanr

        names = [k for k in tracks[next(iter(tracks))] if k not in ("ctx",)]
        print("within-window Spearman of each signal with the smoothed distance (clip-grouped mean [95 %]):")
        for name in names:
            rho = np.full(n, np.nan)
            for i in range(n):
                v = tracks[(obs[i].clip, obs[i].track_id)][name][pos[i]]
                if np.ptp(v) > 0 and np.ptp(smoothed[i]) > 0:
                    rho[i] = spearmanr(v, smoothed[i])[0]
            ok = np.isfinite(rho)
            m, lo, hi = grouped_bootstrap_mean(rho[ok], clips[ok])
            print(f"  {name:<16} {m:+.3f} [{lo:+.3f}, {hi:+.3f}]  ({ok.sum()} windows)")
    print(f"{n} windows, {len(set(clips))} clips, {len(set(sources))} sources, {len(tracks)} tracks; "
          "smoothed regret - random [95 % clip-grouped interval]")
    print(show("context rule (consensus off)", context))
    print("columns: candidate (a fixed rule) | - random | - default consensus (paired) | matchable")

    def finalist_scores(i, c):
        t, p, keep = gated_finalists(i)
        out = np.full(len(p), -np.inf)
        out[keep] = candidate_scores(c, {name: t[name][p][keep] for name in t if name not in ("ctx", "gradient")})
        return out

    gains, matches, raws = candidate_table(family, finalist_scores, metrics, show, describe)
    held, per_fold = held_out_rows(gains, matches, raws, sources, context, show,
                                   f"{len(family)} candidates ({args.family})")
    for single, values in singles.items():
        print("  " + show(f"held out - {single} (paired)", held - values))
    # Added after the family was run (not a candidate, not chosen): the family's choice (A±2) as
    # the sparse Selector could compute it, from admitted neighbours only (its figure is in-sample
    # for the choice of A±2, a check of the implementation, not a new result)
    if args.family == "within":
        g, _, r = metrics(lambda i: finalist_scores(i, ("A±2 admitted",)))
        print("  " + show("A±2 from admitted neighbours - random", g))
        print("  " + show("A±2 from admitted neighbours - default", g - gains[0]))
        print("  " + show("  unsmoothed regret - default", r - raws[0]))
    for source in sorted(set(sources)):
        rows = sources == source
        print(f"    {source:<28} {rows.sum():3d} windows  held out {np.mean(held[rows]):+.4f}  "
              f"- default consensus {np.mean((held - gains[0])[rows]):+.4f}  ({describe(family[per_fold[source]])})")


if __name__ == "__main__":
    main()
