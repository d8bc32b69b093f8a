"""The VAE made to earn its place in the within-track pick: a pre-registered family (issue 22 item 3, session 17).

Written down, with the code, before any of it was run on the benchmark (the commit that adds this
file precedes every figure it produced; the signal cache was filled before, which computes per-crop
numbers and no figure of the benchmark). Results: docs/model_card.md ("The VAE against a complexity
model", in "All 40 shared clips") and ``docs/eval/tracks/vae_ratio.txt``.

Why. The VAE's likelihood terms added +0.005 (worse) to the context rule and were moved out of the
pick (session 8). Three of issue 22's ideas were never tried: a likelihood **ratio** against a
generic image model (a plain likelihood calls simple, flat, blurred crops typical), **per-region**
ratios (eyes, mouth), and **latent typicality against frontal training faces**. The signals are
defined in ``experiments/vae_ratio_signals.py`` (``lr_png``, ``lr_local``, ``eyes_local``,
``mouth_local``, ``latent``; one VAE pass at z = mu_z a crop).

The family (16 candidates, ``CANDIDATES`` in this order; candidate 0 is the default consensus
pick: the window's 32 best crops by the context screen, those at least as sharp (native
``gradient``) as the track's median crop, the one whose orientation histogram agrees best (``A``)
with the median of the admitted crops' histograms). For each of the 5 signals S, three uses:

* ``rank``: among the default's gated finalists, the best rank(A) + rank(S) (ties by A);
* ``gate``: among the gated finalists, those with S at or above the gated finalists' median S,
  then the best A;
* ``screen``: the finalists become the window's 32 best by rank(context) + rank(S) over the
  window's crops (ties by the context score), then the default's gate and A (the reference stays
  the default's, from the crops admitted by the context screen).

``ll`` (the plain likelihood the ratios correct) is scored with the same three uses as a control,
outside the family (never chosen, reported as fixed rows).

Selection protocol (fixed with the family):

1. 4-s windows of the 40 shared clips (129): every candidate's smoothed regret minus a random
   frame's; the choice **leave-one-source-out** among all 16
   (:func:`facesel.eval.track_heldout.held_out_choice`, ties to the lower index, so to the
   default); reported only held out: against random, paired against the default (candidate 0),
   the context rule alone and each single signal, 95 % clip-grouped bootstrap intervals, the
   matchable share, each source's fold choice and mean.
2. The same on 2-s windows (195), chosen afresh on them.
3. Cost: CPU per crop of the VAE pass at z = mu_z, the PNG coder, the local model and the latent
   distance, measured while filling the cache (1 thread, ratios within the run).

Adoption rule: the held-out choice becomes a Selector setting only if (a) its 4-s paired interval
against the default lies wholly below 0, (b) the 2-s held-out paired mean is <= 0, and (c) its
cost is acceptable: the per-crop CPU of its signal times the crops that need it per frame in the
sparse mode on the arcade clip (``rank`` and ``gate``: the 32 finalists of each track, once; the
``screen`` use: every crop looked at), at most 2 ms a frame (10 % of the sparse mode's ~20 ms a
frame: 18-20 ms, docs/model_card.md, "The consensus switch"); it becomes the default only if, in addition, the replayed selfie check
of tests/test_selector_videos.py passes. Otherwise the default stays and this is reported as a
negative result.

Run (after ``facesel eval tracks`` filled the track cache, see pick_consensus_native.py):
    nice -n 5 python experiments/pick_vae_ratio.py --cache-dir /tmp/pick17-cache/tracks --vae-cache /tmp/pick17-cache/vae [--window 2]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.stats import rankdata, spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pick_consensus_native import admitted_mask, load, pick_scores, track_reference  # noqa: E402
from pick_consensus_robust import VIDEOS  # noqa: E402
from vae_ratio_signals import CONTROL, SIGNALS, frontal_latent_reference, video_vae_signals  # noqa: E402

USES = ("rank", "gate", "screen")
CANDIDATES = (("default", None),) + tuple((use, s) for s in SIGNALS for use in USES)
"""(use, signal) of the 16 candidates; index 0 is the default consensus pick."""
CONTROLS = tuple((use, CONTROL) for use in USES)
K = 32
GATE = "gate track, gradient"


def describe(candidate: tuple) -> str:
    use, signal = candidate
    return "default consensus" if signal is None else f"{use}, {signal}"


def order_finalists(use: str, agree: np.ndarray, signal: np.ndarray) -> np.ndarray:
    """(n,) scores (higher chosen, -inf excluded) of n gated finalists' agreement (``-inf`` where the
    native gate excluded one) and their (n,) signal, for ``rank`` / ``gate`` / ``default``/``screen``
    (the latter two: the agreement itself)."""
    ok = np.isfinite(agree)
    if use in ("default", "screen") or ok.sum() < 2:
        return agree
    out = np.full(len(agree), -np.inf)
    a, s = agree[ok], np.nan_to_num(signal[ok], nan=-np.inf)
    if use == "rank":
        out[ok] = rankdata(a) + rankdata(s) + 1e-9 * a
    elif use == "gate":
        out[ok] = np.where(s >= np.median(s), a, -np.inf)
    else:
        raise ValueError(f"unknown use {use!r}")
    return out


def finalists(use: str, ctx: np.ndarray, signal: np.ndarray) -> np.ndarray:
    """(<= K,) indices of the window's finalists: its K best by the context screen, or (``screen``)
    by rank(context) + rank(signal) over the window, ties by the context score."""
    if use != "screen":
        return np.argsort(-ctx, kind="stable")[:K]
    key = rankdata(ctx) + rankdata(np.nan_to_num(signal, nan=-np.inf))
    return np.lexsort((-ctx, -key))[:K]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache-dir", type=Path, required=True)
    ap.add_argument("--vae-cache", type=Path, required=True)
    ap.add_argument("--window", type=float, default=4.0)
    ap.add_argument("--videos", nargs="*", default=VIDEOS)
    args = ap.parse_args()
    from facesel.cli.eval import _expand_videos
    from facesel.data import data_root
    from facesel.eval.track_data import collect_tracks

    d = load(args)
    args.vae_cache.mkdir(parents=True, exist_ok=True, mode=0o700)
    ref = frontal_latent_reference(data_root(), args.vae_cache)
    print(f"latent reference: {ref[2]} frontal lfw/train faces")
    vae, cpu = {}, {}
    for path in _expand_videos([data_root() / "videos" / v for v in args.videos]):
        video = collect_tracks(path, cache_dir=args.cache_dir, with_crops=False)
        if not (args.vae_cache / f"vae17-{video.key}.npz").is_file():  # decode the clip again for its crops
            video = collect_tracks(path, cache_dir=args.cache_dir, with_crops=True)
        table = video_vae_signals(video, args.vae_cache, ref)
        for k in ("cpu_vae", "cpu_png", "cpu_local", "cpu_latent", "crops"):
            cpu[k] = cpu.get(k, 0.0) + float(table[k])
        for idx in video.track_slices():
            vae[(video.name, int(video.context.track_ids[idx[0]]))] = {s: table[s][idx] for s in SIGNALS + (CONTROL,)}
    n_crops = cpu["crops"]
    print("CPU a crop (1 thread, this machine, loaded): " + ", ".join(
        f"{k[4:]} {1e3 * cpu[k] / n_crops:.3f} ms" for k in ("cpu_vae", "cpu_png", "cpu_local", "cpu_latent"))
          + f" over {int(n_crops)} crops")
    evaluate_family(d, vae, CANDIDATES, CONTROLS, SIGNALS + (CONTROL,))


def evaluate_family(d, vae: dict, candidates: tuple, controls: tuple, diagnosed: tuple) -> None:
    """Print every candidate's row, the leave-one-source-out choice among ``candidates`` (index 0:
    the default consensus pick) and the diagnostics; shared by session 17's family and session 18's
    video-trained VAE (``experiments/pick_vae_video.py``).

    ``d``: :func:`pick_consensus_native.load`'s benchmark; ``vae``: (clip, track id) -> signal name ->
    (n_crops,) per crop of the track in frame order; ``candidates``/``controls``: (use, signal) pairs;
    ``diagnosed``: the signals whose within-window Spearman is printed."""
    from facesel.eval.track_heldout import held_out_choice

    obs, n, tracks, pos = d.obs, d.n, d.tracks, d.pos
    agree = {key: t["hog"] @ track_reference(t["hog"], admitted_mask(t["ctx"], K), "admitted, median")
             for key, t in tracks.items()}

    def scorer(use, signal):
        def score_of(i):
            key = (obs[i].clip, obs[i].track_id)
            t, p = tracks[key], pos[i]
            s = vae[key][signal][p] if signal else np.zeros(len(p))
            top = finalists(use, d.context[i], s)
            gated = pick_scores(GATE, agree[key][p][top], t["gradient"][p][top], float(np.nanmedian(t["gradient"])))
            out = np.full(len(p), -np.inf)
            out[top] = order_finalists(use, gated, s[top])
            return out
        return score_of

    print("columns: candidate | - random | - default consensus (paired) | matchable")
    gains, matches = [], []
    for cand in candidates + controls:
        g, m = d.metrics(scorer(*cand))
        gains.append(g)
        matches.append(m)
        tag = " (control, outside the family)" if cand in controls else ""
        print(f"{d.show(describe(cand) + tag, g, 50)} | {d.show('', g - gains[0], 0)} | {m.mean():.3f}", flush=True)
    gains, matches = np.array(gains), np.array(matches)
    family = np.arange(len(candidates))
    chosen, per_fold = held_out_choice(gains[family], d.sources)
    held = gains[family][chosen, np.arange(n)]
    print(f"\nchosen leave-one-source-out among the {len(candidates)} candidates:")
    print("  " + d.show("held out - random", held) + f"  matchable {matches[family][chosen, np.arange(n)].mean():.3f}")
    print("  " + d.show("held out - default consensus (paired)", held - gains[0]))
    print("  " + d.show("held out - context rule (paired)", held - d.default))
    for single, values in d.singles.items():
        print("  " + d.show(f"held out - {single} (paired)", held - values))
    counts = np.bincount(list(per_fold.values()), minlength=len(candidates))
    print(f"  chosen most often: {describe(candidates[int(np.argmax(counts))])} ({counts.max()} of {len(per_fold)} folds)")
    for source in sorted(set(d.sources)):
        rows = d.sources == source
        print(f"    {source:<28} {rows.sum():3d} windows  held out {np.mean(held[rows]):+.4f}  "
              f"- default consensus {np.mean((held - gains[0])[rows]):+.4f}  ({describe(candidates[per_fold[source]])})")
    diagnose(d, vae, agree, diagnosed)


def diagnose(d, vae: dict, agree: dict, diagnosed: tuple) -> None:
    """Descriptive: within-window Spearman of each signal with the smoothed distance among the
    default's gated finalists (negative: the signal orders crops the right way), clip-grouped."""
    from facesel.eval import track_metrics as tm
    from facesel.eval.track_metrics import grouped_bootstrap_mean

    print("\nwithin-window Spearman with the smoothed distance, among the default's gated finalists (descriptive):")
    for signal in ("A",) + tuple(diagnosed):
        rhos, clips = [], []
        for i, o in enumerate(d.obs):
            key = (o.clip, o.track_id)
            t, p = d.tracks[key], d.pos[i]
            top = np.argsort(-d.context[i], kind="stable")[:K]
            gated = np.isfinite(pick_scores(GATE, agree[key][p][top], t["gradient"][p][top], float(np.nanmedian(t["gradient"]))))
            rows = top[gated]
            x = agree[key][p][rows] if signal == "A" else vae[key][signal][p][rows]
            y = tm.smooth(o.distances)[rows]
            if len(rows) >= 3 and np.ptp(x) > 0 and np.ptp(y) > 0:
                rhos.append(spearmanr(x, y)[0])
                clips.append(o.clip)
        m, lo, hi = grouped_bootstrap_mean(np.array(rhos), np.array(clips))
        print(f"  {signal:<12} {m:+.3f} [{lo:+.3f}, {hi:+.3f}]  ({len(rhos)} windows)")


if __name__ == "__main__":
    main()
