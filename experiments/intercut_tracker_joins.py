"""Why the cut cue lets a track run on from one person to the next on intercut clips (issue 23, session 21).

    python experiments/intercut_tracker_joins.py [--families liveportrait retalking]

A diagnosis, no rule: on the intercut interviews and controls (:mod:`facesel.eval.intercut`) of
the named families, the default Selector with the tracker's cue values recorded
(:attr:`facesel.track.TrackStage.records`). For each shot boundary (a hard cut every ``shot``
frames) it prints whether the cut cue fired, and for each detection of the first frames after it:
the tracker's segment, the colour distance to the segment's colours before (``far``, the value
``SwitchRule.cut_appearance`` is compared with), and the split reason. A run's tracks are
attributed to persons by the construction, so a segment seen on both sides of a boundary with
two persons is a join the cut did not split.
"""

from __future__ import annotations

import argparse


def main() -> int:
    import cv2

    from facesel import Selector
    from facesel.config import PipelineConfig
    from facesel.data import data_root
    from facesel.eval import intercut
    from facesel.scoring import LaplacianVarianceScorer
    from facesel.selector import default_detector

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--families", nargs="+", default=["liveportrait", "retalking"])
    parser.add_argument("--after", type=int, default=4, help="frames after each boundary shown")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    detector = default_detector(PipelineConfig())
    for family, kind, names, frames, owner in intercut.material(data_root(), families_only=args.families):
        selector = Selector(detector, LaplacianVarianceScorer(), threads=1, fps=25.0)
        selector._track.records = []  # the cue values per detection (measurement only)
        results = []
        cuts = []
        for k, frame in enumerate(frames):
            results += selector.feed(frame, k / 25.0).closed
            if selector._track.cut_thumbs is not None:
                cuts.append(k)
        results += selector.flush()
        joins = [sorted({owner[int(f)] for f in r.frame_indices}) for r in results]
        if not any(len(j) > 1 for j in joins):
            continue
        print(f"{family} {kind} {' | '.join(names)}: snapshots' persons {joins}; cut cue fired on {cuts}")
        # segment -> persons of the frames it was recorded on
        persons: dict = {}
        records = [r for r in selector._track.records if r[0] != "still"]  # the split checks only
        for frame, _, segment, *_ in records:
            persons.setdefault(segment, set()).add(owner[min(frame, len(owner) - 1)])
        for boundary in range(1, len(owner)):
            if owner[boundary] == owner[boundary - 1]:
                continue
            near = [r for r in records if boundary - 1 <= r[0] <= boundary + args.after]
            for frame, c, segment, hits, cut_diff, sj, aj, far, reason in near:
                print(f"  boundary {boundary} frame {frame} segment {segment} (persons {sorted(persons[segment])}) "
                      f"hits {hits} cut diff {cut_diff:.1f} size jump {sj:.2f} colour distance {far:.3f} split {reason}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
