"""A size gate against the face's own growth, chosen held out by family (docs/persons.md, "A crowd walking at the camera").

    python experiments/approach_growth_loso.py [--set grown|covered] [--approach 4] [--layouts 3] [--json PATH]

**Pre-registered (session 19, committed before any figure of it was seen).** The default's one
wrong join on the crowds walking at the camera (``facesel eval crowds --approach --layouts 4``) is a
short link between two small faces without colours, 0.72 s apart, sizes 1.01 apart: the earlier
face was growing (its walker coming nearer), the later one had the earlier's *last* size. The
candidate: the short link's size gate compares the later fragment's sides with the earlier one's
grown at its own rate to the later one's time (``LinkRule.growth_size_ratio``,
:mod:`facesel.select.face_growth`), within

- off (``None``: the default, the unpredicted ratio 1.5),
- 1.5, 1.3, 1.2 (grown ratio).

**Second registration (``--set covered``; session 19, committed before its figures, after those of
the first were seen).** With covered links (``LinkRule.covered_gap_seconds`` 3 s), the crowds
walking at the camera (``crowds_refusals.py --approach --layouts 4 --rule covered``) showed one
walker hidden 2.60 s behind nearer ones refused by the **size gate** (its face grew 1.85x while
hidden): the case the brief suspected. Candidates: off; covered 3 s, reach 2.5, any track in front
(the loosest measured in "Crossing crowds"); the same with ``growth_size_ratio`` 1.5; covered 3 s,
reach 2.5, the same track, with ``growth_size_ratio`` 1.5. Chosen and adopted by the same rule.

Material (made in memory, never written; recorded once per family and replayed per candidate,
:mod:`facesel.eval.crowds_replay`), per source family (signers, LivePortrait, video-retalking,
other): its crowds walking at the camera (``--approach`` walks per group), its crossing crowds
(``--layouts`` walks), its occluded tiled crowds, its same-place replacements.

Choice per held-out family, on the other three: fewest (wrong joins on the approaching, crossing
and occluded crowds + replacement pairs joined + persons without a snapshot on the approaching and
crossing crowds), then fewest snapshots per person on the approaching crowds, then the first
listed (off). **Adoption** needs, held out over all four families, no more wrong joins, joined
replacements or persons without a snapshot than off on any family, and fewer snapshots per person on
the approaching crowds; and then the edge returns, the splices and the shared videos, which this
script does not run (the figures here only decide whether that is worth running).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from crowd_material import crowd_setup, replay_table
from loso_print import write_json

SETS = {
    "grown": {"off (default)": {}, "grown 1.5": {"growth_size_ratio": 1.5}, "grown 1.3": {"growth_size_ratio": 1.3},
              "grown 1.2": {"growth_size_ratio": 1.2}},
    "covered": {"off (default)": {},
                "covered 3 s any": {"covered_gap_seconds": 3.0, "cover_reach": 2.5, "cover_same": False},
                "covered 3 s any, grown 1.5": {"covered_gap_seconds": 3.0, "cover_reach": 2.5, "cover_same": False,
                                               "growth_size_ratio": 1.5},
                "covered 3 s same, grown 1.5": {"covered_gap_seconds": 3.0, "cover_reach": 2.5,
                                                "growth_size_ratio": 1.5}},
}
KINDS = ("approach", "crossing", "occluded")


def _bad(row: dict) -> int:
    """Wrong joins, joined replacements and persons without a snapshot of one family's row."""
    return (sum(row[k][2] for k in KINDS) + row["replacements"][1] + row["approach"][3] + row["crossing"][3])


def main(argv=None) -> int:
    from facesel.select.linking import LinkRule

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=tuple(SETS), default="grown", help="which registered candidates")
    parser.add_argument("--approach", type=int, default=4, help="walks at the camera per group of clips")
    parser.add_argument("--layouts", type=int, default=3, help="crossing walks per group of clips")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    detector, scorer, fams, groups = crowd_setup()

    candidates = SETS[args.set]
    table = replay_table(fams, groups, args.layouts, detector, scorer, candidates,
                         lambda settings: LinkRule(**settings), approach=args.approach)
    families = list(fams)
    held = {}
    for out in families:
        def score(name, out=out):
            rows = [table[(name, f)] for f in families if f != out]
            approach = [sum(r["approach"][i] for r in rows) for i in (0, 1)]
            return (sum(_bad(r) for r in rows), approach[1] / max(1, approach[0]))
        best = min(candidates, key=score)
        held[out] = {"chosen": best, **table[(best, out)]}
        print(f"held out {out:12s}: chose '{best}': " + json.dumps(table[(best, out)]) + " ; off: "
              + json.dumps(table[(next(iter(candidates)), out)]))
    for kind in KINDS:
        tot = [sum(h[kind][i] for h in held.values()) for i in range(4)]
        off = [sum(table[(next(iter(candidates)), f)][kind][i] for f in families) for i in range(4)]
        print(f"held out, {kind}: {tot[1]} / {tot[0]} snapshots, wrong {tot[2]}, without {tot[3]}  "
              f"(off: {off[1]} / {off[0]}, wrong {off[2]}, without {off[3]})")
    for name in candidates:
        parts = []
        for kind in KINDS:
            tot = [sum(table[(name, f)][kind][i] for f in families) for i in range(4)]
            parts.append(f"{kind} {tot[1]}/{tot[0]} wrong {tot[2]} without {tot[3]}")
        parts.append(f"replacements joined {sum(table[(name, f)]['replacements'][1] for f in families)}")
        print(f"all families, {name}: " + "; ".join(parts))
    write_json(args.json, table, held)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
