"""Can the consensus pick be made robust to motion blur? 48 variants, held out by source.

The consensus pick (``facesel.scoring.consensus``, ``consensus_finalists``) keeps the finalist
whose Sobel edge image agrees most (cosine) with the average of its track's edge images. On the
motion-blurred selfie it keeps frames blurrier than the track's median (the strict xfail
``test_selfie_consensus_pick_is_sharper_than_the_track_median``): the average of a blurred track
is itself blurred, so blurred crops agree with it best. This experiment tries the fixes, each a
few-parameter, explainable change of one of the rule's three parts (4 x 4 x 3 = 48 variants):

* the **signature** of a crop: ``edges`` (today), ``hog`` (gradient orientation histograms in 8x8
  cells of 8x8 pixels, 9 unsigned bins, each cell scaled to unit length: blur lowers a cell's
  gradient magnitudes but barely turns their orientations), ``edges 16`` (the edge image of the
  crop shrunk to 16x16: a few pixels of blur at 64x64 are below its resolution), ``vae latent``
  (the shipped VAE's encoder mean, unit length: issue 22's "each crop against the track's latent
  consensus"; the encoder alone, about 1 ms a crop on one CPU thread);
* the **reference** it is compared with: the ``mean`` of the track's signatures (today), the mean
  of the ``sharp half`` (crops at or above the track's median sharpness), a mean ``sharpness-
  weighted`` by each crop's sharpness rank in its track, the per-coordinate ``median``;
* a **combination**: the agreement ``alone`` (today), or the sum of its rank and the rank of the
  detector confidence (``+ detector``) or of the sharpness (``+ sharpness``) among the candidates.

Sharpness here is ``log(1 + variance of the Laplacian)`` of the 64x64 grey crop (the ``sharpness``
signal of ``facesel eval tracks``), which the Selector could compute per crop for next to nothing.

Each variant, on the 4-s windows of ``facesel eval tracks`` (smoothed regret minus a random
frame's; 95 % intervals by a bootstrap over clips):

1. **all crops**: the reference from every crop of the track, the choice among the window's crops;
2. **live, K = 16**: as the Selector runs it: the reference from the crops the sparse mode aligns
   (those among the track's K best by the context screen so far when they came), the choice among
   the window's K best by the context screen; paired against the default (the context rule);
3. the share of the 92 tracks whose live pick is at least as sharp (64x64) as the track's median;
4. **the selfie check**, exactly as the test judges it: the selfie run in the exhaustive mode (one
   frame in two, YuNet at 640 pixels, the default scorer), each track's pick among its 16 best by
   the full score, its sharpness at the frame's own resolution (face box resized to 128x128)
   against the track's median. (The 64x64 sharpness of column 3 is not that measure: on the selfie
   it called ``hog, median`` sharper than the median where the test's measure does not.)

Then three held-out choices, leave-one-source-out (each source's windows judged by the variant
chosen on the other nine): among all variants on the all-crops figure (as in
``experiments/pick_consensus.py``), among all variants on the live figure, and among only the
variants that pass the selfie check, on the live figure; each paired against random, the default
and every single signal, and by source. A variant could become the default only if it passes the
selfie check and its live figure beats the default with an interval that excludes zero.

Run (the crops are rebuilt from the clips and the selfie is detected again: 2 to 20 minutes
depending on the machine's load; the signals come from ``facesel eval tracks``' cache):
    python experiments/pick_consensus_robust.py --cache-dir /tmp/pick-cache/tracks
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
from scipy.stats import rankdata

from facesel import Selector
from facesel.align import align_face, to_grey
from facesel.cli.eval import _expand_videos
from facesel.data import data_root
from facesel.detect import make_detector
from facesel.eval import track_metrics as tm
from facesel.eval.track_bench import load_benchmark
from facesel.eval.track_heldout import fast_metrics, held_out_choice
from facesel.eval.track_metrics import grouped_bootstrap_mean
from facesel.eval.track_rules import build_rule
from facesel.scoring import LaplacianVarianceScorer
from facesel.scoring.consensus import edge_signatures
from facesel.scoring.native_blur import MEASURES, face_box_grey
from facesel.selector import default_scorer
from facesel.video import open_source

VIDEOS = ["arcade_walkers_1080p.mp4", "intel_face_demographics_walking.gif", "intel_head_pose_female.gif",
          "selfie_motion_blur_portrait.mp4", "otb_girl/img", "more"]
SELFIE = "selfie_motion_blur_portrait.mp4"
LIVE_K = 16


def _unit(rows: np.ndarray) -> np.ndarray:
    rows = rows.reshape(len(rows), -1).astype(np.float64)
    rows = rows - rows.mean(axis=1, keepdims=True)
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)


def hog_signatures(greys: np.ndarray, cell: int = 8, bins: int = 9) -> np.ndarray:
    """(M, (64/cell)^2 * bins) float64: per cell, the histogram of unsigned gradient orientations
    weighted by magnitude, each cell scaled to unit length, the whole centred and unit."""
    out = []
    for grey in greys:
        gx = cv2.Sobel(grey, cv2.CV_64F, 1, 0)
        gy = cv2.Sobel(grey, cv2.CV_64F, 0, 1)
        magnitude = np.hypot(gx, gy)
        angle = np.mod(np.arctan2(gy, gx), np.pi)
        b = np.minimum((angle / np.pi * bins).astype(np.int64), bins - 1)
        n = grey.shape[0] // cell
        cell_of = (np.arange(grey.shape[0]) // cell)
        index = (cell_of[:, None] * n + cell_of[None, :]) * bins + b
        hist = np.bincount(index.ravel(), weights=magnitude.ravel(), minlength=n * n * bins).reshape(n * n, bins)
        hist /= np.maximum(np.linalg.norm(hist, axis=1, keepdims=True), 1e-6)
        out.append(hist.ravel())
    return _unit(np.array(out))


def small_edge_signatures(greys: np.ndarray, side: int = 16) -> np.ndarray:
    small = [cv2.resize(g, (side, side), interpolation=cv2.INTER_AREA) for g in greys]
    out = []
    for g in small:
        gx = cv2.Sobel(g, cv2.CV_64F, 1, 0)
        gy = cv2.Sobel(g, cv2.CV_64F, 0, 1)
        out.append(np.hypot(gx, gy))
    return _unit(np.array(out))


_VAE = []


def latent_signatures(greys: np.ndarray) -> np.ndarray:
    """(M, latent) float64: the shipped VAE's encoder mean of each crop, scaled to unit length
    (its direction in latent space; the agreement is the cosine with the track's centre)."""
    if not _VAE:
        from facesel.scoring.vae import VAEScorer
        _VAE.append(VAEScorer.default())
    mu_z = np.concatenate([_VAE[0].runner.encode(greys[k:k + 256])[1] for k in range(0, len(greys), 256)])
    mu_z = mu_z.astype(np.float64)
    return mu_z / np.maximum(np.linalg.norm(mu_z, axis=1, keepdims=True), 1e-12)


SIGNATURES = {"edges": lambda c: edge_signatures(c).astype(np.float64), "hog": hog_signatures,
              "edges 16": small_edge_signatures, "vae latent": latent_signatures}


def reference(how: str, signatures: np.ndarray, sharpness: np.ndarray) -> np.ndarray:
    """Unit (D,) reference of a track from its (N, D) admitted signatures and (N,) sharpness."""
    if how == "mean":
        centre = signatures.mean(axis=0)
    elif how == "sharp half":
        centre = signatures[sharpness >= np.median(sharpness)].mean(axis=0)
    elif how == "sharpness-weighted":
        w = rankdata(sharpness) / len(sharpness)
        centre = (w[:, None] * signatures).sum(axis=0)
    elif how == "median":
        centre = np.median(signatures, axis=0)
    else:
        raise ValueError(how)
    return centre / max(np.linalg.norm(centre), 1e-12)


REFERENCES = ("mean", "sharp half", "sharpness-weighted", "median")
COMBINATIONS = ("alone", "+ detector", "+ sharpness")


def combine(how: str, agreement: np.ndarray, det: np.ndarray, sharp: np.ndarray) -> np.ndarray:
    """(n,) scores of n candidates from their (n,) agreement, detector confidence and sharpness:
    the agreement itself, or the sum of its rank and the other signal's rank (equal weights)."""
    if how == "alone":
        return agreement
    other = det if how == "+ detector" else sharp
    return rankdata(agreement) + rankdata(other) + 1e-9 * agreement  # ties: the better agreement


def native_sharpness(frame: np.ndarray, box: np.ndarray) -> float:
    """Variance of the Laplacian of the face box at the frame's own resolution, resized to 128x128:
    the measure of tests/test_selector_videos.py's selfie checks (not the scorer's 64x64 crop)."""
    h, w = frame.shape[:2]
    x1, y1 = max(0, int(box[0])), max(0, int(box[1]))
    x2, y2 = min(w, int(np.ceil(box[2]))), min(h, int(np.ceil(box[3])))
    face = cv2.resize(to_grey(frame[y1:y2, x1:x2]), (128, 128), interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(face, cv2.CV_64F).var())


def selfie_tracks() -> list[dict]:
    """The selfie video as ``test_selfie_consensus_pick_is_sharper_than_the_track_median`` runs it
    (one frame in two, YuNet at 640 pixels, the default scorer, exhaustive mode): per track of 10
    or more crops, its aligned grey crops, full scores, detector confidences, landmarks (5, 2), 64x64 sharpness and
    the native sharpness of every crop. The Selector with ``consensus_finalists=16`` keeps, of the
    16 best by the full score, the one the consensus prefers: replayed here for every variant."""
    source = open_source(data_root() / "videos" / f"{SELFIE}", every=2)
    frames, stamps = zip(*source)
    detector = make_detector("yunet", max_side=640)
    found = [detector.detect(f) for f in frames]
    calls = iter(found)

    class Replay:
        def detect(self, frame):
            return next(calls)

    selector = Selector(Replay(), default_scorer(), mode="exhaustive", consensus_finalists=0)
    results = []
    for frame, stamp in zip(frames, stamps):
        results += selector.feed(frame, stamp).closed
    results += selector.flush()
    out = []
    for r in results:
        if len(r.frame_indices) < 10:
            continue
        greys, det, marks = [], [], []
        for f, box in zip(r.frame_indices, r.boxes):
            d = found[f]
            j = int(np.argmin(np.abs(d.boxes[:, :4] - box[None]).sum(axis=1)))  # the detection it came from
            greys.append(align_face(frames[f], d.boxes[j], d.landmarks[j]).grey)
            det.append(float(d.scores[j]))
            marks.append(d.landmarks[j])
        greys = np.stack(greys)
        out.append({"greys": greys, "det": np.array(det), "landmarks": np.stack(marks).astype(np.float64),
                    "quality": np.asarray(r.qualities, np.float64),
                    "frames": np.asarray(r.frame_indices), "sharp": LaplacianVarianceScorer().score(greys),
                    "native": np.array([native_sharpness(frames[f], b) for f, b in zip(r.frame_indices, r.boxes)]),
                    # the Selector's own native-frame measures (experiments/pick_consensus_native.py)
                    "measures": {name: np.array([measure(face_box_grey(frames[f], b))
                                                 for f, b in zip(r.frame_indices, r.boxes)])
                                 for name, measure in MEASURES.items()}})
    return out


def selfie_check(tracks: list[dict], signature, ref_name: str, comb: str) -> list[tuple[float, float]]:
    """(native sharpness of the pick, the track's median) per selfie track, as the Selector picks."""
    out = []
    for t in tracks:
        sig = signature(t["greys"])
        ref = reference(ref_name, sig, t["sharp"])
        top = np.array(sorted(range(len(t["quality"])), key=lambda k: (-t["quality"][k], t["frames"][k]))[:LIVE_K])
        k = top[int(np.argmax(combine(comb, sig[top] @ ref, t["det"][top], t["sharp"][top])))]
        out.append((float(t["native"][k]), float(np.median(t["native"]))))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache-dir", type=Path, required=True)
    ap.add_argument("--window", type=float, default=4.0)
    ap.add_argument("--videos", nargs="*", default=VIDEOS, help="under the shared videos folder")
    args = ap.parse_args()
    selfie = selfie_tracks()
    videos = _expand_videos([data_root() / "videos" / v for v in args.videos])
    bench = load_benchmark(videos, {}, cache_dir=args.cache_dir, window=args.window, crops_needed=True)
    obs, views = bench.observations, bench.views
    n = len(obs)
    smoothed = [tm.smooth(o.distances) for o in obs]
    rand = np.array([s.mean() - s.min() for s in smoothed])
    clips = np.array([o.clip for o in obs])
    sources = np.array([o.source for o in obs])
    tracks = defaultdict(list)  # windows of one track: the reference is the track's, not the window's
    for i, o in enumerate(obs):
        tracks[(o.clip, o.track_id)].append(i)
    sig_of = lambda i, name: views[i].signals[name].astype(np.float64)  # noqa: E731
    context = {i: np.nan_to_num(sig_of(i, "default_context"), nan=-1e9) for i in range(n)}
    det = {i: np.nan_to_num(sig_of(i, "det"), nan=-1e9) for i in range(n)}
    sharp = {i: np.nan_to_num(sig_of(i, "sharpness"), nan=-1e9) for i in range(n)}

    def gain(score_of) -> np.ndarray:
        return np.array([fast_metrics(score_of(i), obs[i].distances, smoothed[i])[0] for i in range(n)]) - rand

    def show(name, values, width=52):
        m, lo, hi = grouped_bootstrap_mean(values, clips)
        return f"{name:<{width}} {m:+.4f} [{lo:+.4f}, {hi:+.4f}]"

    default = gain(lambda i: context[i])
    # admitted (live): a crop joins the track's consensus when it was among the K best by the screen so far
    admitted = {}
    for key, idx in tracks.items():
        values = np.concatenate([context[i] for i in idx])
        admitted[key] = np.array([r < LIVE_K or values[r] > np.sort(values[:r])[-LIVE_K] for r in range(len(values))])

    print(f"{n} windows, {len(set(clips))} clips, {len(set(sources))} sources, {len(tracks)} tracks; "
          "smoothed regret - random [95 % clip-grouped interval]")
    print(show("default (context rule)", default))
    print("columns: all crops | live K=16 | live - default (paired) | tracks whose live pick is at least their "
          "median 64x64 sharpness | selfie: native sharpness of the pick / track median (test's measure)")
    names, offline, live, selfie_ok = [], [], [], []
    for sig_name, signature in SIGNATURES.items():
        sigs = {i: signature(views[i].crops) for i in range(n)}
        for ref_name in REFERENCES:
            ref_all, ref_live = {}, {}
            for key, idx in tracks.items():
                every = np.concatenate([sigs[i] for i in idx])
                s = np.concatenate([sharp[i] for i in idx])
                ref_all[key] = reference(ref_name, every, s)
                ref_live[key] = reference(ref_name, every[admitted[key]], s[admitted[key]])
            agree_all = {i: sigs[i] @ ref_all[(obs[i].clip, obs[i].track_id)] for i in range(n)}
            agree_live = {i: sigs[i] @ ref_live[(obs[i].clip, obs[i].track_id)] for i in range(n)}
            for comb in COMBINATIONS:
                names.append(f"{sig_name}, {ref_name}, {comb}")
                offline.append(gain(lambda i: combine(comb, agree_all[i], det[i], sharp[i])))

                def live_pick(agreement, ctx, d, s):
                    top = np.argsort(-ctx, kind="stable")[:LIVE_K]
                    out = np.full(len(ctx), -np.inf)
                    out[top] = combine(comb, agreement[top], d[top], s[top])
                    return out

                live.append(gain(lambda i: live_pick(agree_live[i], context[i], det[i], sharp[i])))
                at_least = []  # each track's live pick over the whole track vs its median 64x64 sharpness
                for key, idx in tracks.items():
                    s = np.concatenate([sharp[i] for i in idx])
                    k = int(np.argmax(live_pick(np.concatenate([agree_live[i] for i in idx]),
                                                np.concatenate([context[i] for i in idx]),
                                                np.concatenate([det[i] for i in idx]), s)))
                    at_least.append(s[k] >= np.median(s))
                check = selfie_check(selfie, signature, ref_name, comb)
                selfie_ok.append(all(p > m for p, m in check))
                print(f"{show(names[-1], offline[-1])} | {show('', live[-1], 0)} | {show('', live[-1] - default, 0)} | "
                      f"{np.mean(at_least):.2f} | {' '.join(f'{p:.1f}/{m:.1f}' for p, m in check)} "
                      f"{'fixed' if selfie_ok[-1] else 'NOT fixed'}", flush=True)

    offline, live, selfie_ok = np.array(offline), np.array(live), np.array(selfie_ok)
    singles = {}
    for single in ("detector", "sharpness", "face-size", "frontal"):
        rule = build_rule(single)
        singles[single] = gain(lambda i: np.nan_to_num(rule(views[i]), nan=-1e9))
    for label, family, members in (
            ("all crops, every variant", offline, np.arange(len(names))),
            (f"live K={LIVE_K}, every variant", live, np.arange(len(names))),
            (f"live K={LIVE_K}, the variants that fix the selfie", live, np.flatnonzero(selfie_ok))):
        chosen, per_fold = held_out_choice(family[members], sources)
        held = family[members][chosen, np.arange(n)]
        print(f"\nchosen leave-one-source-out on {label} ({len(members)} candidates):")
        print("  " + show("held out - random", held))
        print("  " + show("held out - default (paired)", held - default))
        for single, values in singles.items():
            print("  " + show(f"held out - {single} (paired)", held - values))
        if family is offline:  # the same choices judged live (what the Selector would run)
            held_live = live[members][chosen, np.arange(n)]
            print("  " + show("its live K=16 figure - random", held_live))
            print("  " + show("its live K=16 figure - default (paired)", held_live - default))
        for source in sorted(set(sources)):
            rows = sources == source
            print(f"    {source:<28} {rows.sum():3d} windows  held out {np.mean(held[rows]):+.4f}  "
                  f"- default {np.mean((held - default)[rows]):+.4f}  ({names[members[per_fold[source]]]}; "
                  f"selfie {'fixed' if selfie_ok[members[per_fold[source]]] else 'NOT fixed'})")


if __name__ == "__main__":
    main()
