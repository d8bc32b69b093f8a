"""How stable is the benchmark's "best frame"? The within-track ground truth judged by two halves of
its own reference (issue 22, session 14; descriptive, nothing chosen).

The ground truth of ``facesel eval tracks`` (:func:`facesel.eval.track_persons.crop_distances`) is
each crop's mean matcher distance to its person's frontal, confident crops elsewhere in the clip.
Here each person's reference crops are cut in two, by time (``--split time``: the earlier and the
later half, in the order of the reference list: track, then frame; a lower bound of the agreement,
since the halves also differ by what changed over the clip and each has half the crops) or
alternately (``--split alternate``: every other reference crop; an upper bound, since neighbouring
frames are nearly the same picture), each crop gets a distance to each half (the same
+-2-frame exclusion), and on the 4-s windows of the benchmark:

* the oracle of one half (the crop with the lowest smoothed distance to it), judged by the other
  half's smoothed regret minus a random frame's: what a rule that knew one reference perfectly
  would score against the other (averaged over both directions);
* the default consensus pick and a random frame judged by each half, for comparison.

If the oracle of one half scores far from the other half's perfect pick, part of the headroom a
rule is asked to win (the bar: 0.02 of a random frame's 0.038) is the reference's own sampling,
which no per-crop signal can predict.

Run: ``nice -n 5 python experiments/pick_truth_reliability.py --cache-dir /tmp/pick-cache/tracks [--split alternate]``
(about a minute each; output in docs/eval/tracks/truth_reliability.txt)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from facesel.cli.eval import _expand_videos
from facesel.data import data_root
from facesel.eval import track_metrics as tm
from facesel.eval.track_data import collect_tracks
from facesel.eval.track_metrics import grouped_bootstrap_mean
from facesel.eval.track_persons import PersonReferences

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pick_consensus_robust import VIDEOS  # noqa: E402
from pick_loss_diagnosis import finalists, load  # noqa: E402


def half_distances(video, split: str = "time") -> tuple[np.ndarray, np.ndarray]:
    """(N,), (N,): each crop's distance to one and to the other half of its person's reference
    crops, as :func:`crop_distances` computes it from the whole reference; ``split`` "time": the
    earlier and the later half, "alternate": every other reference crop."""
    people = PersonReferences(video)
    out = (np.full(len(people.embeddings), np.nan), np.full(len(people.embeddings), np.nan))
    for _label, members, ref in people.persons():
        halves = (ref[: len(ref) // 2], ref[len(ref) // 2:]) if split == "time" else (ref[0::2], ref[1::2])
        for t in members:
            for i in people.tracks[t]:
                for h, half in enumerate(halves):
                    if len(half):
                        out[h][i] = people.distance(i, half)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache-dir", type=Path, required=True)
    ap.add_argument("--window", type=float, default=4.0)
    ap.add_argument("--videos", nargs="*", default=VIDEOS)
    ap.add_argument("--split", choices=("time", "alternate"), default="time",
                    help="time: the reference's earlier and later half; alternate: every other reference crop "
                         "(neighbouring frames are alike, so this bounds the agreement from above)")
    args = ap.parse_args()
    obs, tracks, pos = load(args.cache_dir, args.videos, args.window)
    halves = {}
    for path in _expand_videos([data_root() / "videos" / v for v in args.videos]):
        video = collect_tracks(path, cache_dir=args.cache_dir, with_crops=False)
        halves[video.name] = half_distances(video, args.split)
    rows = {"cross oracle (one half's best, judged by the other)": [], "default consensus pick": [],
            "the full truth's oracle, judged by each half": []}
    clips, rand_regret = [], []
    for i, o in enumerate(obs):
        d = [halves[o.clip][h][o.rows] for h in (0, 1)]
        if not all(np.isfinite(x).all() for x in d):
            continue
        s = [tm.smooth(x) for x in d]
        full = tm.smooth(o.distances)
        t, p = tracks[(o.clip, o.track_id)], pos[i]
        gated = finalists(t, p)[1]
        pick = gated[int(np.argmax(t["A"][p][gated]))]
        rand = [x.mean() - x.min() for x in s]
        regret = lambda x, j: x[j] - x.min()  # noqa: E731
        rows["cross oracle (one half's best, judged by the other)"].append(
            np.mean([regret(s[1], np.argmin(s[0])) - rand[1], regret(s[0], np.argmin(s[1])) - rand[0]]))
        rows["default consensus pick"].append(np.mean([regret(s[h], pick) - rand[h] for h in (0, 1)]))
        rows["the full truth's oracle, judged by each half"].append(np.mean([regret(s[h], np.argmin(full)) - rand[h] for h in (0, 1)]))
        rand_regret.append(np.mean(rand))
        clips.append(o.clip)
    clips = np.array(clips)
    print(f"{len(clips)} of {len(obs)} windows (both halves finite), {len(set(clips))} clips; "
          "smoothed regret minus a random frame's, averaged over the two halves [95 % clip-grouped]")
    m, lo, hi = grouped_bootstrap_mean(np.array(rand_regret), clips)
    print(f"  {'a random frame (its regret; a perfect pick scores minus this)':<62} {m:.4f} [{lo:.4f}, {hi:.4f}]")
    for name, values in rows.items():
        m, lo, hi = grouped_bootstrap_mean(np.array(values), clips)
        print(f"  {name:<62} {m:+.4f} [{lo:+.4f}, {hi:+.4f}]")


if __name__ == "__main__":
    main()
