"""The consensus pick against the track's FRONTAL look: a pre-registered family (issue 22, session 16).

Written down, with the code, before any of it was run on the benchmark (the commit that adds this
file precedes every figure it produced). Run by ``experiments/pick_consensus_native.py --family
frontal``; results in docs/model_card.md ("The consensus against the frontal crops") and
``docs/eval/tracks/consensus_frontal.txt``.

Why. The default pick (session 11) keeps, among a window's 32 best crops by the context screen that
are at least as sharp in their native frame as the track's median crop (``gradient``), the one
whose orientation histogram (``hog``) is most like the per-coordinate median of the histograms of
the crops the sparse mode aligns ("admitted": those that joined the track's 32 best by the screen
when they came). That median is the track's *typical* look, turns and looks-down included. The
benchmark's ground truth, like an investigator, compares each crop with the person's FRONTAL
frames (``facesel.eval.track_persons``: landmark-frontal and upright, confident). Hypothesis: a
reference built from the track's upright, frontal crops only is closer to what the crop is judged
against, so the crop most like it is the better pick.

The family (20 candidates; ``CANDIDATES``, in this order; candidate 0 is the default). Every
candidate keeps the default's finalists (the window's 32 best by the context screen) and its
native-sharpness gate (finalists at least as sharp, ``gradient``, as the track's median crop; all
finalists when none is); only the reference and the agreement change:

* **pool** (which crops can enter the reference): ``admitted`` (what the Selector aligns today)
  or ``all`` (every crop the policy looks at: the Selector would have to align every crop of a
  track; this is item (d), whose price is reported as the paired difference all - admitted of each
  fixed candidate and as the share of crops the sparse mode aligns).
* **subset** of the pool that makes the reference:
    - ``pool``: all of it (the default's reference when the pool is ``admitted``);
    - ``screen half``: the pool's ceil(n/2) best by the context screen (pose, detector, size);
    - ``screen quarter``: its ceil(n/4) best by the screen;
    - ``frontal``: the pool's crops that the benchmark itself calls frontal
      (:func:`facesel.eval.track_persons.frontal_mask`: |yaw| < 0.15 eye distances, |roll| < 15
      degrees, |pitch| < 0.15, detector >= 0.7), i.e. the criterion of the ground truth's
      reference photos (an investigator's frontal photo); stated caveat: it shares the ground
      truth's own definition of "frontal", which could flatter it;
    - ``frontal third``: the pool's ceil(n/3) most frontal by landmark pose cost yaw^2 + roll^2 +
      (pitch - PITCH_UPRIGHT)^2 (``facesel.scoring.gate.PITCH_UPRIGHT``: upright as YuNet sees
      it; a crop without landmarks costs 27).
  Any subset with fewer than 3 crops is replaced by the pool's 3 best by the same order (screen,
  or pose cost for ``frontal``), and a pool of 3 crops or fewer is used whole.
* **agreement** of a crop with the subset: ``median``: cosine of its histogram with the subset's
  per-coordinate median (the default's form); ``medoid``: the median, over the subset's crops
  other than itself, of its cosine with each of them (how like a typical frontal crop it is,
  rather than like a synthetic median histogram). (The MEAN cosine with the subset equals the
  cosine with the subset's mean histogram up to a positive factor, i.e. the ``mean`` reference of
  session 11, which lost to the median; so it is not a separate candidate.)

2 pools x 5 subsets x 2 agreements = 20.

Selection protocol (fixed with the family):

1. 4-s windows of the 40 shared clips (129): every candidate's smoothed regret minus a random
   frame's per window; the choice **leave-one-source-out** among all 20
   (:func:`facesel.eval.track_heldout.held_out_choice`, ties to the lower index, so to the
   default); reported only held out: against random, paired against the default (candidate 0),
   the context rule alone and each single signal (detector, sharpness, size, frontal), 95 %
   intervals by a bootstrap over clips, the matchable share, and each source's fold choice.
   The same choice among the 10 ``admitted`` candidates (no extra alignment).
2. The same on 2-s windows (195), chosen afresh on them.
3. The selfie check of ``tests/test_selector_videos.py`` replayed for every candidate (exhaustive
   mode as the test runs it: every crop aligned, so both pools are every crop; finalists the 32
   best by the full score; the test's own native Laplacian of the pick against the track's
   median).
4. A candidate becomes a Selector setting (off by default) only if the held-out choice on 4-s
   windows beats the default with a paired interval that excludes zero, the 2-s windows do not
   contradict it (paired mean <= 0), and the candidate chosen in most folds passes the selfie
   check. Otherwise the default stays and this is reported as a negative result.
"""

from __future__ import annotations

import math

import numpy as np

from facesel.scoring.gate import PITCH_UPRIGHT

POOLS = ("admitted", "all")
SUBSETS = ("pool", "screen half", "screen quarter", "frontal", "frontal third")
AGREEMENTS = ("median", "medoid")
CANDIDATES = tuple((pool, subset, agreement) for pool in POOLS for subset in SUBSETS for agreement in AGREEMENTS)
"""(pool, subset, agreement) of the 20 candidates; index 0 is the default consensus pick."""
MIN_REFERENCE = 3
NO_POSE_COST = 27.0
"""Pose cost of a crop whose landmarks give no pose (three squared units: never among the frontal)."""


def describe(candidate: tuple) -> str:
    pool, subset, agreement = candidate
    return f"{pool}, {subset}, {agreement}"


def pose_cost(yaw: np.ndarray, roll: np.ndarray, pitch: np.ndarray) -> np.ndarray:
    """(N,) yaw^2 + roll^2 + (pitch - PITCH_UPRIGHT)^2 of signed landmark poses (yaw, pitch in eye
    distances / ratios, roll in radians); NaN (no landmarks) gives :data:`NO_POSE_COST`."""
    cost = np.square(yaw) + np.square(roll) + np.square(pitch - PITCH_UPRIGHT)
    return np.where(np.isfinite(cost), cost, NO_POSE_COST)


def reference_rows(pool: np.ndarray, subset: str, screen: np.ndarray, frontal: np.ndarray,
                   cost: np.ndarray) -> np.ndarray:
    """(R,) int64 indices (into the track's crops, ascending) of the crops the reference is made of.

    pool : (N,) bool, the crops that can enter it; screen : (N,) float64, the context screen
    (higher better); frontal : (N,) bool, the benchmark's frontal crops; cost : (N,) float64,
    :func:`pose_cost` (lower more frontal)."""
    members = np.flatnonzero(pool)
    if len(members) <= MIN_REFERENCE or subset == "pool":
        return members
    by_screen = members[np.argsort(-screen[members], kind="stable")]
    by_pose = members[np.argsort(cost[members], kind="stable")]
    if subset == "screen half":
        chosen = by_screen[: math.ceil(len(members) / 2)]
    elif subset == "screen quarter":
        chosen = by_screen[: math.ceil(len(members) / 4)]
    elif subset == "frontal third":
        chosen = by_pose[: math.ceil(len(members) / 3)]
    elif subset == "frontal":
        chosen = members[frontal[members]]
    else:
        raise ValueError(f"unknown subset {subset!r}")
    if len(chosen) < MIN_REFERENCE:
        chosen = (by_pose if subset.startswith("frontal") else by_screen)[:MIN_REFERENCE]
    return np.sort(chosen)


def agreements(sigs: np.ndarray, rows: np.ndarray, how: str) -> np.ndarray:
    """(N,) agreement of every crop's unit signature (N, D) with the reference crops ``rows``.

    ``median``: cosine with the unit per-coordinate median of ``sigs[rows]``; ``medoid``: median of
    its cosines with each reference crop other than itself (all of them when it is not one)."""
    ref_sigs = sigs[rows]
    if how == "median":
        ref = np.median(ref_sigs, axis=0)
        return sigs @ (ref / max(float(np.sqrt(np.square(ref).sum())), 1e-12))
    if how != "medoid":
        raise ValueError(f"unknown agreement {how!r}")
    cos = sigs @ ref_sigs.T  # (N, R)
    own = np.full(len(sigs), -1)
    own[rows] = np.arange(len(rows))
    out = np.empty(len(sigs))
    for j in range(len(sigs)):
        others = cos[j] if own[j] < 0 or len(rows) == 1 else np.delete(cos[j], own[j])
        out[j] = float(np.median(others))
    return out


K = 32
GATE = "gate track, gradient"
"""The default's finalists and native-sharpness gate, kept by every candidate."""


def run_frontal_family(d, selfie: list) -> None:
    """Score the 20 candidates on the benchmark ``d`` (:func:`pick_consensus_native.load`) and on
    the replayed ``selfie`` tracks (:func:`pick_consensus_robust.selfie_tracks`), then print the
    pre-registered held-out choices."""
    from types import SimpleNamespace

    from pick_consensus_native import admitted_mask, pick_scores

    from facesel.eval.track_heldout import held_out_choice
    from facesel.eval.track_persons import frontal_mask
    from facesel.scoring.consensus import hog_signatures
    from facesel.scoring.pose import landmark_pose

    obs, n, tracks, pos, show = d.obs, d.n, d.tracks, d.pos, d.show
    cost = {key: pose_cost(t["yaw"], t["roll"], t["pitch"]) for key, t in tracks.items()}
    admitted = {key: admitted_mask(t["ctx"], K) for key, t in tracks.items()}
    crops = sum(len(t["ctx"]) for t in tracks.values())
    aligned = sum(int(a.sum()) for a in admitted.values())
    print(f"item (d)'s price: the sparse mode aligns {aligned} of the {crops} crops of these tracks for the reference "
          f"({aligned / crops:.1%}); the 'all' pool needs every one aligned (x{crops / aligned:.2f} grey alignments "
          "and histograms)")
    # the frontal subset of every crop needs only the crops that can enter it aligned: each crop the
    # benchmark calls frontal (known from its landmarks and detector score when it comes) and, for the
    # fallback (fewer than 3 frontal), each crop that joined the track's 3 most frontal when it came
    needed = sum(int((admitted[key] | t["frontal"] | admitted_mask(-cost[key], MIN_REFERENCE)).sum())
                 for key, t in tracks.items())
    print(f"the 'all, frontal' reference, aligning only the crops that can enter it (admitted, frontal, or among "
          f"the 3 most frontal so far): {needed} of {crops} ({needed / crops:.1%}; x{needed / aligned:.2f} of today's)")
    for st in selfie:
        pose = landmark_pose(st["landmarks"])
        st["hog"] = hog_signatures(st["greys"]).astype(np.float64)
        st["frontal"] = frontal_mask(SimpleNamespace(landmarks=st["landmarks"], det_scores=st["det"]))
        st["cost"] = pose_cost(pose[:, 0], pose[:, 1], pose[:, 2])
    print("columns: candidate | - random | - default consensus (paired) | matchable | "
          "selfie (test's measure: pick / track median)")
    gains, matches, selfie_ok, scorers = [], [], [], []
    for pool, subset, how in CANDIDATES:
        agree = {}
        for key, t in tracks.items():
            members = admitted[key] if pool == "admitted" else np.ones(len(t["ctx"]), bool)
            agree[key] = agreements(t["hog"], reference_rows(members, subset, t["ctx"], t["frontal"], cost[key]), how)

        def score_of(i, agree=agree):
            key = (obs[i].clip, obs[i].track_id)
            t, p = tracks[key], pos[i]
            top = np.argsort(-d.context[i], kind="stable")[:K]
            out = np.full(len(p), -np.inf)
            out[top] = pick_scores(GATE, agree[key][p][top], t["gradient"][p][top], float(np.nanmedian(t["gradient"])))
            return out

        g, m = d.metrics(score_of)
        scorers.append(score_of)
        gains.append(g)
        matches.append(m)
        check = []
        for st in selfie:  # exhaustive mode, as the test runs it: every crop aligned, finalists by full score
            everyone = np.ones(len(st["quality"]), bool)
            a = agreements(st["hog"], reference_rows(everyone, subset, st["quality"], st["frontal"], st["cost"]), how)
            top = np.array(sorted(range(len(st["quality"])), key=lambda j: (-st["quality"][j], st["frames"][j]))[:K])
            grad = st["measures"]["gradient"]
            j = top[int(np.argmax(pick_scores(GATE, a[top], grad[top], float(np.nanmedian(grad)))))]
            check.append((float(st["native"][j]), float(np.median(st["native"]))))
        selfie_ok.append(bool(check) and all(a > b for a, b in check))
        print(f"{show(describe((pool, subset, how)), g, 40)} | {show('', g - gains[0], 0)} | {m.mean():.3f} | "
              f"{' '.join(f'{a:.1f}/{b:.1f}' for a, b in check)} {'passes' if selfie_ok[-1] else 'FAILS'}", flush=True)
    gains, matches = np.array(gains), np.array(matches)
    print("\nitem (d), fixed rules: the reference from every crop minus from the admitted crops (paired)")
    half = len(CANDIDATES) // 2
    for c in range(half):
        print("  " + show(f"{CANDIDATES[c][1]}, {CANDIDATES[c][2]}: all - admitted", gains[c + half] - gains[c]))
    for label, members in (("all 20 candidates", np.arange(len(CANDIDATES))),
                           ("the 10 admitted candidates (no extra alignment)", np.arange(half))):
        chosen, per_fold = held_out_choice(gains[members], d.sources)
        held = gains[members][chosen, np.arange(n)]
        print(f"\nchosen leave-one-source-out among {label}:")
        print("  " + show("held out - random", held) + f"  matchable {matches[members][chosen, np.arange(n)].mean():.3f}")
        print("  " + show("held out - default consensus (paired)", held - gains[0]))
        print("  " + show("held out - context rule (paired)", held - d.default))
        for single, values in d.singles.items():
            print("  " + show(f"held out - {single} (paired)", held - values))
        counts = np.bincount([members[v] for v in per_fold.values()], minlength=len(CANDIDATES))
        top = int(np.argmax(counts))
        print(f"  chosen most often: {describe(CANDIDATES[top])} ({counts[top]} of {len(per_fold)} folds; "
              f"selfie {'passes' if selfie and selfie_ok[top] else 'FAILS or not run'})")
        # descriptive, added after the first run (not part of the choice): the ground truth's reference
        # photos are the crops ``frontal_mask`` calls frontal; how often is the pick itself one of them?
        for c in sorted({0, top}):
            picked = [tracks[(obs[i].clip, obs[i].track_id)]["frontal"][pos[i]][int(np.argmax(scorers[c](i)))]
                      for i in range(n)]
            print(f"  share of picks the benchmark calls frontal, {describe(CANDIDATES[c])}: {np.mean(picked):.3f}")
        for source in sorted(set(d.sources)):
            rows = d.sources == source
            j = members[per_fold[source]]
            print(f"    {source:<28} {rows.sum():3d} windows  held out {np.mean(held[rows]):+.4f}  "
                  f"- default consensus {np.mean((held - gains[0])[rows]):+.4f}  ({describe(CANDIDATES[j])})")
