"""Where the default consensus pick loses against a window's best frame, in numbers (issue 22, session 14).

Descriptive only: nothing here is chosen or fitted. For every 4-s window of the benchmark
(``facesel eval tracks`` cache, as ``pick_consensus_within.py`` reads it) it finds

* the default pick (the window's 32 best crops by the context screen, those at least as sharp in
  their native frame as the track's median crop, then the highest agreement ``A`` of the
  orientation histogram with the median of the track's admitted crops), and
* the oracle: the crop with the lowest smoothed matcher distance (the benchmark's own target),

and prints (1) where the regret arises: the best frame reachable among the 32 finalists and among
the gated finalists (so how much is lost by the screen, by the gate, by the order ``A``); (2) how
concentrated the regret is (which windows, which sources); (3) for the worst windows, the pick's
and the oracle's per-crop properties side by side; (4) for each property, the within-window
Spearman correlation with the smoothed distance among the gated finalists (where a new signal would
act) and over all crops, clip-grouped means with 95 % intervals; (5) each property's within-window
Spearman correlation with ``A`` (is it new information or ``A`` again).

Properties of a crop (all from what the Selector has: box, 5 landmarks, detector score, the
native frame's sharpness; none needs a recognition model):

* ``A``: the default's agreement; ``det``; ``|yaw|``, ``|roll|``, ``pitch`` (landmark ratios);
  ``log size`` (box side);
* ``sharp``: log of the native ``gradient`` sharpness over the track's median;
* ``edge``: the box's smallest margin to the frame border over its side (< 0: cut by the border);
* ``motion``: box-centre displacement between the previous and next crop, over side, per frame;
* ``geom dev``: distance of the crop's landmark shape (nose and mouth corners in the frame of the
  eyes: eye midpoint at 0, eye distance 1, eye line level) from the track's median shape;
* ``mouth w``: mouth-corner distance over eye distance, minus the track's median (a smile or a
  talking mouth widens it, a hand over the mouth moves the corners);
* ``lm jitter``: distance of the crop's shape from the mean shape of its 2 neighbours on each side
  in the track (landmarks that jump between frames: occlusion, blur, a detector unsure of the face);
* ``from ends``: seconds from the track's nearer end;
* ``VAE eyes``, ``VAE eyes rel``, ``dose``: the VAE's eye-band pixel log-likelihood (alone and
  minus the whole crop's) and the dose score, from the cached signal table (they need the VAE);
* with ``--lbp-cache``: ``bright``, ``contrast`` (log of the aligned crop's mean and standard
  deviation over the track's median) and ``light side`` (how far the left-right brightness
  difference lies from the track's median: light from another side).

Run: ``nice -n 5 python experiments/pick_loss_diagnosis.py --cache-dir /tmp/pick-cache/tracks``
(about a minute; ``--videos ...`` a subset; ``--lbp-cache /tmp/pick22b/lbp`` adds the photometry). Output kept in docs/eval/tracks/pick_loss_diagnosis.txt.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from facesel.cli.eval import _expand_videos
from facesel.data import data_root
from facesel.eval import track_metrics as tm
from facesel.eval.track_bench import load_benchmark
from facesel.eval.track_data import collect_tracks
from facesel.eval.track_metrics import grouped_bootstrap_mean
from facesel.eval.track_native import native_features
from facesel.eval.track_signals import video_signals

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pick_consensus_native import admitted_mask, unit  # noqa: E402
from pick_consensus_robust import VIDEOS  # noqa: E402

K = 32


def landmark_shapes(lms: np.ndarray) -> np.ndarray:
    """(N, 5, 2) landmarks -> (N, 6): nose and both mouth corners in the eyes' frame (eye midpoint
    at the origin, eye line along +x, eye distance 1). NaN rows where the eyes coincide."""
    eye_l, eye_r = lms[:, 0], lms[:, 1]
    mid = 0.5 * (eye_l + eye_r)
    axis = eye_r - eye_l
    d = np.hypot(axis[:, 0], axis[:, 1])
    with np.errstate(invalid="ignore", divide="ignore"):
        ux, uy = axis[:, 0] / d, axis[:, 1] / d
        out = []
        for k in (2, 3, 4):
            rel = lms[:, k] - mid
            out.append((rel[:, 0] * ux + rel[:, 1] * uy) / d)
            out.append((rel[:, 0] * -uy + rel[:, 1] * ux) / d)
    return np.stack(out, axis=1)


def neighbour_mean_rows(x: np.ndarray, half: int) -> np.ndarray:
    """(N, D) mean of each row's ``half`` neighbours on each side, the row itself excluded (fewer at the ends)."""
    n = len(x)
    out = np.full_like(x, np.nan)
    for j in range(n):
        idx = [k for k in range(max(0, j - half), min(n, j + half + 1)) if k != j]
        if idx:
            out[j] = np.nanmean(x[idx], axis=0)
    return out


def crop_properties(video, signals: dict, feats: dict, idx: np.ndarray) -> dict:
    """Every property of the module docstring for one track's crops (rows ``idx``, frame order), (n,) each."""
    ctx = np.nan_to_num(signals["default_context"][idx], nan=-1e9)
    hog = feats["hog"][idx].astype(np.float64)
    admitted = admitted_mask(ctx, K)
    ref = unit(np.median(hog[admitted], axis=0))
    boxes = np.asarray(video.context.boxes[idx], np.float64)
    side = np.sqrt(np.maximum((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]), 1.0))
    h, w = video.context.frame_shape[:2]
    margin = np.min(np.stack([boxes[:, 0], boxes[:, 1], w - boxes[:, 2], h - boxes[:, 3]], axis=1), axis=1) / side
    frames = np.asarray(video.frame_indices[idx], np.float64)
    n = len(idx)
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    prev, nxt = np.maximum(np.arange(n) - 1, 0), np.minimum(np.arange(n) + 1, n - 1)
    gap = np.maximum(frames[nxt] - frames[prev], 1)
    lms = np.asarray(video.context.landmarks[idx], np.float64)
    shape = landmark_shapes(lms)
    med = np.nanmedian(shape, axis=0)
    mouth_w = np.hypot(*(lms[:, 4] - lms[:, 3]).T) / np.maximum(np.hypot(*(lms[:, 1] - lms[:, 0]).T), 1e-9)
    seconds = frames / float(video.fps)
    grad = feats["gradient"][idx].astype(np.float64)
    return {
        "ctx": ctx, "gradient": grad,
        "A": hog @ ref,
        "det": np.asarray(signals["det"][idx], np.float64),
        "|yaw|": np.abs(signals["yaw"][idx]), "|roll|": np.abs(signals["roll"][idx]), "pitch": signals["pitch"][idx],
        "log size": np.log(side),
        "sharp": np.log(np.maximum(grad, 1e-9) / max(float(np.nanmedian(grad)), 1e-9)),
        "edge": margin,
        "motion": np.linalg.norm(centre[nxt] - centre[prev], axis=1) / side / gap if n > 1 else np.zeros(n),
        "geom dev": np.linalg.norm(shape - med, axis=1),
        "mouth w": mouth_w - np.nanmedian(mouth_w),
        "lm jitter": np.linalg.norm(shape - neighbour_mean_rows(shape, 2), axis=1),
        "from ends": np.minimum(seconds - seconds[0], seconds[-1] - seconds),
        # the VAE's per-crop terms already cached by ``facesel eval tracks`` (the eye band's pixel
        # log-likelihood, the same relative to the whole crop's, the dose): the brief's "VAE
        # restricted to the eyes", looked at, not a candidate
        "VAE eyes": np.asarray(signals["eyes"][idx], np.float64),
        "VAE eyes rel": np.asarray(signals["eyes_relative"][idx], np.float64),
        "dose": np.asarray(signals["dose"][idx], np.float64),
    }


def load(cache_dir: Path, videos: list[str], window: float, with_landmarks: bool = False):
    """(observations, tracks {(clip, track id): properties}, positions of each window's crops in its track);
    with ``with_landmarks`` also {(clip, track id): (n, 5, 2) landmarks} and the benchmark's views."""
    paths = _expand_videos([data_root() / "videos" / v for v in videos])
    bench = load_benchmark(paths, {}, cache_dir=cache_dir, window=window)
    tracks, row_of, lms_of = {}, {}, {}
    for path in paths:
        video = collect_tracks(path, cache_dir=cache_dir, with_crops=False)
        signals = video_signals(video, video.key, cache_dir)
        feats = native_features(path, cache_dir)
        for idx in video.track_slices():
            key = (video.name, int(video.context.track_ids[idx[0]]))
            tracks[key] = crop_properties(video, signals, feats, idx)
            lms_of[key] = np.asarray(video.context.landmarks[idx], np.float64)
            row_of[key] = {int(r): p for p, r in enumerate(idx.tolist())}
    obs = bench.observations
    pos = [np.array([row_of[(o.clip, o.track_id)][int(r)] for r in o.rows]) for o in obs]
    if with_landmarks:
        return obs, tracks, pos, lms_of, bench.views
    return obs, tracks, pos


def per_track_rows(cache_dir: Path, videos: list[str], video_rows: Callable[[Path], np.ndarray]
                   ) -> Iterator[tuple[tuple[str, int], np.ndarray]]:
    """Split a per-crop measure of each video into its tracks, to attach it to :func:`load`'s tracks.

    ``video_rows(path)`` gives one row per crop of the video's cached tracks, in VideoTracks order
    (an (N,) or (N, D) array, any dtype). Yields ``((clip, track id), rows)`` for every track, the
    rows (n,) or (n, D) in the track's frame order, the order of the track's other signals."""
    for path in _expand_videos([data_root() / "videos" / v for v in videos]):
        video = collect_tracks(path, cache_dir=cache_dir, with_crops=False)
        values = video_rows(path)
        for idx in video.track_slices():
            yield (video.name, int(video.context.track_ids[idx[0]])), values[idx]


def add_photometry(tracks: dict, cache_dir: Path, videos: list[str], lbp_cache: Path) -> None:
    """Add ``bright``, ``contrast`` (log ratios to the track's median) and ``light side`` (the
    left-right brightness difference's distance from the track's median) to every track."""
    from pick_lbp_consensus import video_lbp

    for key, ph in per_track_rows(cache_dir, videos, lambda path: video_lbp(path, cache_dir, lbp_cache, what="photo")):
        t = tracks[key]
        t["bright"] = np.log(np.maximum(ph[:, 0], 1.0) / max(float(np.median(ph[:, 0])), 1.0))
        t["contrast"] = np.log(np.maximum(ph[:, 1], 1e-3) / max(float(np.median(ph[:, 1])), 1e-3))
        t["light side"] = np.abs(ph[:, 2] - np.median(ph[:, 2]))


def finalists(t: dict, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(window positions of the 32 finalists, of the gated finalists) as the default picks them."""
    top = np.argsort(-t["ctx"][p], kind="stable")[:K]
    sharp = np.nan_to_num(t["gradient"][p][top], nan=-np.inf)
    passing = sharp >= float(np.nanmedian(t["gradient"]))
    return top, top[passing] if passing.any() else top


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache-dir", type=Path, required=True)
    ap.add_argument("--window", type=float, default=4.0)
    ap.add_argument("--videos", nargs="*", default=VIDEOS)
    ap.add_argument("--worst", type=int, default=20, help="how many of the worst windows to list")
    ap.add_argument("--lbp-cache", type=Path, default=None,
                    help="also the aligned crop's brightness, contrast and light side against the track's median "
                         "(pick_lbp_consensus.py's cache; decodes every clip once when empty)")
    args = ap.parse_args()
    obs, tracks, pos = load(args.cache_dir, args.videos, args.window)
    if args.lbp_cache is not None:
        add_photometry(tracks, args.cache_dir, args.videos, args.lbp_cache)
    n = len(obs)
    clips = np.array([o.clip for o in obs])
    sources = np.array([o.source for o in obs])
    smoothed = [tm.smooth(o.distances) for o in obs]
    names = [k for k in tracks[next(iter(tracks))] if k not in ("ctx", "gradient")]

    regret, in_top, in_gate, best_top, best_gate, rand, picks, oracles = ([] for _ in range(8))
    for i, o in enumerate(obs):
        t, p, s = tracks[(o.clip, o.track_id)], pos[i], smoothed[i]
        top, gated = finalists(t, p)
        pick = gated[int(np.argmax(t["A"][p][gated]))]
        oracle = int(np.argmin(s))
        picks.append(pick)
        oracles.append(oracle)
        regret.append(s[pick] - s.min())
        rand.append(s.mean() - s.min())
        in_top.append(oracle in set(top.tolist()))
        in_gate.append(oracle in set(gated.tolist()))
        best_top.append(s[top].min() - s.min())
        best_gate.append(s[gated].min() - s.min())
    regret, rand, best_top, best_gate = map(np.array, (regret, rand, best_top, best_gate))

    def show(label, v, width=58):
        m, lo, hi = grouped_bootstrap_mean(np.asarray(v, np.float64), clips)
        return f"{label:<{width}} {m:+.4f} [{lo:+.4f}, {hi:+.4f}]"

    print(f"{n} windows, {len(set(clips))} clips, {len(set(sources))} sources (4-s windows unless --window)")
    print("\n(1) where the regret arises (smoothed distance above the window's best; clip-grouped 95 %)")
    print(show("random frame", rand))
    print(show("default pick", regret))
    print(show("best of the 32 finalists (the screen's loss)", best_top))
    print(show("best of the gated finalists (+ the gate's loss)", best_gate))
    print(show("default - best gated (the order A's loss)", regret - best_gate))
    print(f"  the window's best frame is a finalist in {np.mean(in_top):.1%} of windows, a gated finalist in {np.mean(in_gate):.1%}")
    g = np.array([len(finalists(tracks[(o.clip, o.track_id)], pos[i])[1]) for i, o in enumerate(obs)])
    print(f"  gated finalists per window: median {np.median(g):.0f}, quartiles {np.percentile(g, 25):.0f}-{np.percentile(g, 75):.0f}"
          f"; crops per window median {np.median([len(p) for p in pos]):.0f}")

    print("\n(2) concentration")
    order = np.argsort(-regret)
    total = regret.sum()
    for k in (5, 10, 20, 40):
        print(f"  worst {k:2d} windows hold {regret[order[:k]].sum() / total:.1%} of the default's summed regret "
              f"(and {(regret - best_gate)[order[:k]].sum() / max((regret - best_gate).sum(), 1e-12):.1%} of the order's loss)")
    print(f"  windows with regret < 0.005: {np.mean(regret < 0.005):.1%}; < 0.01: {np.mean(regret < 0.01):.1%}")
    print("  by source: windows, mean regret default / random / best gated")
    for src in sorted(set(sources)):
        r = sources == src
        print(f"    {src:<28} {r.sum():3d}  {regret[r].mean():.4f} / {rand[r].mean():.4f} / {best_gate[r].mean():.4f}")

    print(f"\n(3) the {args.worst} worst windows: pick | oracle (the window's best frame) per property")
    cols = ["dist"] + names
    print(f"  {'clip':<34}{'tr':>3}{'win':>4}{'regret':>8}  " + "  ".join(f"{c:>15}" for c in cols))
    for i in order[:args.worst]:
        o = obs[i]
        t, p = tracks[(o.clip, o.track_id)], pos[i]
        a, b = p[picks[i]], p[oracles[i]]
        vals = [f"{o.distances[picks[i]]:.2f}|{o.distances[oracles[i]]:.2f}"]
        vals += [f"{t[c][a]:+.2f}|{t[c][b]:+.2f}" for c in names]
        print(f"  {o.clip[:33]:<34}{o.track_id:>3}{o.window:>4}{regret[i]:8.3f}  " + "  ".join(f"{v:>15}" for v in vals))

    print("\n(3b) pick minus oracle, median [share of windows where the pick's value is higher]: worst 20 / the rest")
    worst = np.zeros(n, bool)
    worst[order[:20]] = True
    for c in names:
        d = np.array([tracks[(o.clip, o.track_id)][c][pos[i][picks[i]]] - tracks[(o.clip, o.track_id)][c][pos[i][oracles[i]]]
                      for i, o in enumerate(obs)], np.float64)
        print(f"  {c:<10} worst {np.nanmedian(d[worst]):+.3f} [{np.nanmean(d[worst] > 0):.0%}]   rest {np.nanmedian(d[~worst]):+.3f} [{np.nanmean(d[~worst] > 0):.0%}]")

    print("\n(4) within-window Spearman of each property with the smoothed distance (negative: higher value, closer to the person)")
    print(f"  {'property':<10} {'among gated finalists':>34}   {'all crops of the window':>34}")
    for c in names:
        cells = []
        for subset in ("gated", "all"):
            rho = np.full(n, np.nan)
            for i, o in enumerate(obs):
                t, p = tracks[(o.clip, o.track_id)], pos[i]
                sel = finalists(t, p)[1] if subset == "gated" else np.arange(len(p))
                v, s = t[c][p][sel], smoothed[i][sel]
                ok = np.isfinite(v)
                if ok.sum() >= 3 and np.ptp(v[ok]) > 0 and np.ptp(s[ok]) > 0:
                    rho[i] = spearmanr(v[ok], s[ok])[0]
            ok = np.isfinite(rho)
            m, lo, hi = grouped_bootstrap_mean(rho[ok], clips[ok])
            cells.append(f"{m:+.3f} [{lo:+.3f}, {hi:+.3f}] ({ok.sum():3d})")
        print(f"  {c:<10} {cells[0]:>34}   {cells[1]:>34}")

    print("\n(5) how tied each property is to A: within-window Spearman with A (among gated finalists, all crops)")
    for c in names[1:]:
        cells = []
        for subset in ("gated", "all"):
            rho = np.full(n, np.nan)
            for i, o in enumerate(obs):
                t, p = tracks[(o.clip, o.track_id)], pos[i]
                sel = finalists(t, p)[1] if subset == "gated" else np.arange(len(p))
                v, a = t[c][p][sel], t["A"][p][sel]
                ok = np.isfinite(v)
                if ok.sum() >= 3 and np.ptp(v[ok]) > 0 and np.ptp(a[ok]) > 0:
                    rho[i] = spearmanr(v[ok], a[ok])[0]
            ok = np.isfinite(rho)
            m, lo, hi = grouped_bootstrap_mean(rho[ok], clips[ok])
            cells.append(f"{m:+.3f} [{lo:+.3f}, {hi:+.3f}] ({ok.sum():3d})")
        print(f"  {c:<10} {cells[0]:>34}   {cells[1]:>34}")


if __name__ == "__main__":
    main()
