"""Why the ambiguity test did what it did: per short link of the default on the crossing crowds and
the occluded tiled crowds, the link's cost ``d1`` and its nearest competitor's ``d2`` (docs/persons.md
"The short link's ambiguity test"; :mod:`facesel.select.link_ambiguity`).

    python experiments/link_ambiguity_ratios.py [--families liveportrait signers] [--layouts 6]

Each crowd is recorded once through the default Selector (as ``experiments/short_link_loso.py``
does) and replayed with the default rule wrapped in a probe: for every short link it makes, the
smallest competitor cost on each side (another predecessor of the later fragment; another successor
of the earlier one), all competitors and only those seen during the partner they would replace.
Each link is then labelled wrong (its fragments' boxes lie on two walkers / tiles) or genuine.
Printed: per link d1 and the four d2's; per label how many a ratio test at 0.5 / 0.7 / 0.8 would
call ambiguous. Counts and costs only; nothing written.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import replace
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parent))


class Probe:
    """The default rule, remembering for each short link asked the nearest competitors (by the later
    fragment's first frame and box: the key a fragment keeps however it is merged later)."""

    def __init__(self, rule) -> None:
        from facesel.select.link_ambiguity import competitor_costs

        self._rule, self.seen, self._costs = rule, {}, competitor_costs
        self._variants = {f"{side}{'_excl' if excl else ''}": replace(rule, ambiguity_ratio=0.5, ambiguity_sides=side,
                                                                      ambiguity_exclusive=excl)
                          for side in ("later", "both") for excl in (False, True)}

    def __getattr__(self, name):
        return getattr(self._rule, name)

    def cost(self, earlier, later, others=()):
        from facesel.select.linking import COVERED_LINK_OFFSET

        cost = self._rule.cost(earlier, later, others)
        if cost is not None and cost < COVERED_LINK_OFFSET:
            d2 = {k: min(self._costs(v, earlier, later, list(others)), default=math.inf) for k, v in self._variants.items()}
            self.seen[(int(later.first_frame), tuple(round(float(x), 1) for x in later.first_box))] = (cost, d2)
        return cost


def main(argv=None) -> int:
    from facesel.data import data_root
    from facesel.detect import make_detector
    from facesel.eval import crowds
    from facesel.eval.crowds_crossing import crossing_crowd
    from facesel.eval.crowds_replay import keep_fragments, record, replay
    from facesel.select.faceness import FacenessRule
    from facesel.select.finalise import DOSE_FACE_FLOOR, Finaliser
    from facesel.selector import default_scorer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layouts", type=int, default=6)
    parser.add_argument("--families", nargs="*", default=None)
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    fams = crowds.families(data_root())
    if args.families:
        fams = {k: v for k, v in fams.items() if k in args.families}
    detector, scorer = make_detector(max_side=1280), default_scorer()
    tile, columns, frames = 240, 3, 150
    _, inside = crowds.tile_locator((tile * 3 // 4, tile), columns)
    rows = []
    for fam, group in crowds.crowds_of(fams, 6):
        runs = []
        for layout in range(args.layouts):
            crowd, truth = crossing_crowd(group, 200, layout=layout)
            runs.append((f"{fam} crossing walk {layout}", record(crowd, detector, scorer, 25.0, locate=truth.person_at,
                                                                 keep_static=True)))
        tiles = [crowds.read_tile(p, frames, skip=10) for p in group]
        runs.append((f"{fam} tiled", record(crowds.compose(tiles, columns, tile, True, 40, 1.5), detector, scorer, 25.0,
                                            inside, keep_static=True)))
        for label, rec in runs:
            fin = Finaliser.for_scorer(scorer, 0.25, faceness=FacenessRule(min_quality=DOSE_FACE_FLOOR, suppress_static=False))
            probe = Probe(fin.link)
            fin.link = probe  # after construction: the finaliser checks the type
            fragments = keep_fragments(fin)
            replay(rec, fin)
            last = {}
            for root, b in fin.links:
                a = last.get(int(root), int(root))
                last[int(root)] = int(b)
                ta, tb = rec.tiles_of.get(a, set()), rec.tiles_of.get(int(b), set())
                fb = fragments.get(int(b))
                if fb is None or not ta or not tb:
                    continue
                key = (int(fb.first_frame), tuple(round(float(x), 1) for x in fb.first_box))
                if key not in probe.seen:
                    continue  # not a short link (long, shot return)
                d1, d2 = probe.seen[key]
                wrong = ta != tb
                rows.append((wrong, d1, d2))
                print(f"  [{label}] {'WRONG' if wrong else 'genuine'} {a} -> {b}: d1 {d1:.2f}; " +
                      ", ".join(f"{k} d2 {v:.2f}" for k, v in d2.items()), flush=True)
    print("\nshort links called ambiguous (d1 >= ratio x d2), by label:")
    for wrong in (True, False):
        sub = [r for r in rows if r[0] == wrong]
        print(f"  {'wrong' if wrong else 'genuine'} ({len(sub)}): " + "; ".join(
            f"{k} " + "/".join(str(sum(1 for _, d1, d2 in sub if d1 >= ratio * d2[k])) for ratio in (0.5, 0.7, 0.8))
            for k in ("later", "later_excl", "both", "both_excl")) + "  (at ratio 0.5/0.7/0.8)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
