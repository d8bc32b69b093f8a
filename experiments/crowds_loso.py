"""Which re-link rule, chosen leave-one-source-out (docs/persons.md, "Fragments in crowds").

    python experiments/crowds_loso.py [--json PATH]

Per source family of :mod:`facesel.eval.crowds` (signers, LivePortrait, video-retalking, other)
and per candidate :class:`facesel.select.linking.LinkRule`: snapshots per tile person on the
family's occluded crowds (fragments: lower is better, 1 is perfect) and wrong joins, on those
crowds and on the family's same-place replacements (:func:`facesel.eval.crowds.replacement`:
each clip followed by the next person after 15 frames the detector misses). For each held-out
family the rule with the fewest wrong joins and then the fewest snapshots per person on the
other families is chosen, and its figures on the held-out family are reported. The default
Selector with the Laplacian scorer (the pick is not what is measured; the finaliser's face vote
is the shipped VAE's as always), ``keep_static`` on (people before a webcam sit still).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2

CANDIDATES = {
    "before (last/first, 1 s)": {"window": 1, "rejoin_colour_distance": None},
    "ends 8, colours 0.6": {"window": 8, "max_colour_distance": 0.6},
    "ends 8, colours 0.5": {"window": 8, "max_colour_distance": 0.5},
}


def main(argv=None) -> int:
    from facesel.data import data_root
    from facesel.detect import make_detector
    from facesel.eval import crowds
    from facesel.scoring import LaplacianVarianceScorer
    from facesel.select.linking import LinkRule

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    detector, scorer = make_detector(max_side=1280), LaplacianVarianceScorer()
    fams = crowds.families(data_root())
    table = {}  # (rule, family) -> [persons, snapshots, wrong joins, replacement pairs, joined]
    for name, settings in CANDIDATES.items():
        link = LinkRule(**settings)
        for family, clips in fams.items():
            row = table.setdefault((name, family), [0, 0, 0, 0, 0])
            for result in crowds.evaluate(data_root(), occlusion=(True,), settings={"keep_static": True}, link=link,
                                          detector=detector, scorer=scorer, families_only=(family,), log=lambda *a: None):
                row[0] += result.persons
                row[1] += result.snapshots
                row[2] += result.wrong_joins
            rep = crowds.run_replacements(clips, detector, scorer, link=link, keep_static=True)
            row[3] += rep["pairs"]
            row[4] += rep["joined"]
            print(json.dumps({"rule": name, "family": family, "persons": row[0], "snapshots": row[1],
                              "wrong_joins": row[2], "replacements": row[3], "replacements_joined": row[4]}), flush=True)
    families = list(fams)
    held = {}
    for out in families:
        def score(name, out=out):
            rows = [table[(name, f)] for f in families if f != out]
            wrong = sum(r[2] + r[4] for r in rows)
            return (wrong, sum(r[1] for r in rows) / max(1, sum(r[0] for r in rows)))
        best = min(CANDIDATES, key=score)
        r = table[(best, out)]
        held[out] = {"chosen": best, "persons": r[0], "snapshots": r[1], "per_person": r[1] / max(1, r[0]),
                     "wrong_joins": r[2], "replacements": r[3], "replacements_joined": r[4]}
        print(f"held out {out:12s}: chose '{best}': {r[1]} snapshots / {r[0]} persons = {r[1] / max(1, r[0]):.2f}, "
              f"wrong joins {r[2]}, replacements joined {r[4]}/{r[3]}")
    if args.json is not None:
        args.json.write_text(json.dumps({"table": {f"{k[0]}|{k[1]}": v for k, v in table.items()}, "held_out": held},
                                        indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
