"""Covered links (a nearer person passed in front), chosen leave-one-source-out (docs/persons.md, "Crossing crowds").

    python experiments/crowds_covered_loso.py [--layouts 3] [--json PATH]

Material (made in memory, never written), per source family of :mod:`facesel.eval.crowds`
(signers, LivePortrait, video-retalking, other):

- the family's **crossing crowds** (:mod:`facesel.eval.crowds_crossing`: the clips walk across a
  640 x 360 frame, nearer ones in front), each group of clips walked ``--layouts`` times (other
  depths, speeds and directions: seeds);
- its **occluded tiled crowds** (:func:`facesel.eval.crowds.compose`, the grey bar);
- its **same-place replacements** (:func:`facesel.eval.crowds.replacement`).

Each is run once through the default Selector (``keep_static`` on, the default scorer) with a
recorder as its post-close stage, then replayed through a default finaliser per candidate
:class:`LinkRule` (:mod:`facesel.eval.crowds_replay`). Per held-out family: the candidate with the
fewest wrong joins (crowd snapshots whose fragments lie on two people, plus replacement pairs
joined) on the other three families, then the fewest snapshots per person on their crossing
crowds, then the first listed (the default: no covered link).
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

from crowd_material import crowd_setup, replay_table
from loso_print import print_all_families, print_held_out_totals, write_json

CANDIDATES = {"off (default before)": {}}
for _gap, _reach, _same in itertools.product((2.0, 3.0), (1.5, 2.5, 4.0), (True, False)):
    CANDIDATES[f"covered {_gap:g} s, reach {_reach:g}, {'same' if _same else 'any'} track"] = {
        "covered_gap_seconds": _gap, "cover_reach": _reach, "cover_same": _same}


def main(argv=None) -> int:
    from facesel.select.linking import LinkRule

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layouts", type=int, default=3, help="walks per group of clips in the crossing crowds")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    detector, scorer, fams, groups = crowd_setup()

    # (rule, family) -> {kind: [persons, snapshots, wrong, without]} and replacements [pairs, joined]
    table = replay_table(fams, groups, args.layouts, detector, scorer, CANDIDATES, lambda settings: LinkRule(**settings))
    families = list(fams)
    held = {}
    for out in families:
        def score(name, out=out):
            rows = [table[(name, f)] for f in families if f != out]
            wrong = sum(r["crossing"][2] + r["occluded"][2] + r["replacements"][1] for r in rows)
            return (wrong, sum(r["crossing"][1] for r in rows) / max(1, sum(r["crossing"][0] for r in rows)))
        best = min(CANDIDATES, key=score)
        held[out] = {"chosen": best, **table[(best, out)]}
        r, d = table[(best, out)], table[(next(iter(CANDIDATES)), out)]
        print(f"held out {out:12s}: chose '{best}': crossing {r['crossing'][1]} / {r['crossing'][0]} (off: "
              f"{d['crossing'][1]}), wrong {r['crossing'][2]} (off: {d['crossing'][2]}); occluded {r['occluded'][1]} / "
              f"{r['occluded'][0]}, wrong {r['occluded'][2]}; replacements joined {r['replacements'][1]}/{r['replacements'][0]}")
    print_held_out_totals(held, ('crossing', 'occluded'))
    print_all_families(table, CANDIDATES, families, ('crossing', 'occluded'))
    write_json(args.json, table, held)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
