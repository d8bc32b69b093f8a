"""The re-link's colour sample under occlusion, chosen leave-one-source-out (docs/persons.md, "Occluded crowds").

    python experiments/crowds_occlusion_loso.py [--json PATH] [--scorer default|laplacian] [--only chain] [--reach]

Material (made in memory, never written), per source family of :mod:`facesel.eval.crowds`
(signers, LivePortrait, video-retalking, other): the family's tiled crowds with occluders (and
without, reported only), and its same-place replacements (:func:`facesel.eval.crowds.replacement`:
each clip followed at the same place by the next person, whose first 15 frames the detector
misses). Each is run **once** through the default Selector (``keep_static`` on, as
``facesel eval crowds``) with a recorder as its post-close stage (:mod:`facesel.eval.crowds_replay`),
then replayed through a default finaliser with each candidate :class:`LinkRule` (the finaliser is
a post-close stage: detection and tracking do not depend on it, so a replay delivers what a run
with that rule would).

For each held-out family the candidate with the fewest wrong joins (crowd snapshots whose
fragments lie in two tiles, plus replacement pairs joined into one snapshot) and then the fewest
snapshots per person on the occluded crowds of the **other** families is chosen (ties: the first
listed, the default); its figures on the held-out family are reported. The candidates: the colour
sample (``recent``: the better-seen half of the colours measured on the last / first 16
observations, none: not compared; ``seen``: the same of the last / first 16 measured however
old; ``fresh``: the colours measured on the 8 end observations, none: not compared; ``either``,
the default: the smaller of the ``fresh`` and ``recent`` distances; ``ends``: the rule before) and
the colour and re-join thresholds around the shipped ones; and ``chain through``
(``LinkRule.chain_through``: a short fragment lying in time between two fragments a link joins,
which passes the gates as the later one's predecessor, ``later``, or also as the earlier one's
successor, ``both``, or its position and size gates only, ``place``, the default, is absorbed into
the chain; ``off``: never, the rule before). The other candidates keep the default ``place``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import cv2
from loso_print import print_all_families, print_held_out_totals, write_json

CANDIDATES = {  # the default first: ties go to the first listed
    "either (default), colours 0.5, re-join 0.4": {"colour_sample": "either"},  # chain through: place
    "either, colours 0.6, re-join 0.4": {"colour_sample": "either", "max_colour_distance": 0.6},
    "either, colours 0.5, re-join 0.5": {"colour_sample": "either", "rejoin_colour_distance": 0.5},
    "fresh, colours 0.5, re-join 0.4": {"colour_sample": "fresh"},
    "fresh, colours 0.6, re-join 0.4": {"colour_sample": "fresh", "max_colour_distance": 0.6},
    "recent, colours 0.5, re-join 0.4": {"colour_sample": "recent"},
    "recent, colours 0.6, re-join 0.4": {"colour_sample": "recent", "max_colour_distance": 0.6},
    "recent, colours 0.5, re-join 0.5": {"colour_sample": "recent", "rejoin_colour_distance": 0.5},
    "seen, colours 0.5, re-join 0.4": {"colour_sample": "seen"},
    "seen, colours 0.6, re-join 0.4": {"colour_sample": "seen", "max_colour_distance": 0.6},
    "ends (before), colours 0.5, re-join 0.4": {"colour_sample": "ends"},
    "ends, colours 0.6, re-join 0.5": {"colour_sample": "ends", "max_colour_distance": 0.6, "rejoin_colour_distance": 0.5},
    "either, chain through off (before)": {"colour_sample": "either", "chain_through": None},
    "either, chain through (later)": {"colour_sample": "either", "chain_through": "later"},
    "either, chain through (both)": {"colour_sample": "either", "chain_through": "both"},
    "ends, chain through off": {"colour_sample": "ends", "chain_through": None},
    "ends, chain through (later)": {"colour_sample": "ends", "chain_through": "later"},
}


def main(argv=None) -> int:
    from facesel.data import data_root
    from facesel.detect import make_detector
    from facesel.eval import crowds
    from facesel.eval.crowds_replay import (
        crowd_figures,
        record,
        replay,
        spans,
    )
    from facesel.scoring import LaplacianVarianceScorer
    from facesel.select.faceness import FacenessRule
    from facesel.select.finalise import DOSE_FACE_FLOOR, Finaliser
    from facesel.select.linking import LinkRule
    from facesel.selector import default_scorer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--scorer", default="default", choices=("default", "laplacian"))
    parser.add_argument("--only", default=None,
                        help="run the default and only the candidates whose name contains this (e.g. 'chain')")
    parser.add_argument("--reach", action="store_true", help="the default and motion_gap_loso's REACH_CANDIDATES only "
                        "(docs/persons.md \"A bouncing child's reach\")")
    parser.add_argument("--hedge", action="store_true", help="the default and motion_gap_loso's HEDGE_CANDIDATES only "
                        "(docs/persons.md \"Hedged links\")")
    parser.add_argument("--turn", action="store_true", help="the default and motion_gap_loso's TURN_CANDIDATES only "
                        "(docs/persons.md \"A head turned away and back\")")
    args = parser.parse_args(argv)
    candidates = {k: v for i, (k, v) in enumerate(CANDIDATES.items()) if i == 0 or args.only is None or args.only in k}
    if args.reach:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from motion_gap_loso import REACH_CANDIDATES

        first = next(iter(CANDIDATES.items()))
        candidates = dict([first], **{k: v for k, v in REACH_CANDIDATES.items() if k != "off"})
    if args.hedge:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from motion_gap_loso import HEDGE_CANDIDATES

        first = next(iter(CANDIDATES.items()))
        candidates = dict([first], **{k: v for k, v in HEDGE_CANDIDATES.items() if k != "off"})
    if args.turn:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from motion_gap_loso import TURN_CANDIDATES

        first = next(iter(CANDIDATES.items()))
        candidates = dict([first], **{k: v for k, v in TURN_CANDIDATES.items() if k != "off"})
    cv2.setNumThreads(1)
    detector = make_detector(max_side=1280)
    scorer = LaplacianVarianceScorer() if args.scorer == "laplacian" else default_scorer()
    tile, columns, frames, first, second = 240, 3, 150, 45, 60
    tile_of, inside = crowds.tile_locator((tile * 3 // 4, tile), columns)
    fams = crowds.families(data_root())

    def finaliser(settings):
        faceness = FacenessRule(min_quality=DOSE_FACE_FLOOR, suppress_static=False)
        extra = {k: v for k, v in settings.items() if k == "hedge"}  # a Finaliser setting (hedged links)
        return Finaliser.for_scorer(scorer, 0.25, faceness=faceness,
                                    link=LinkRule(**{k: v for k, v in settings.items() if k != "hedge"}), **extra)

    # (rule, family) -> {occluded: [persons, snapshots, wrong], clear: [...], replacements: [pairs, joined]}
    table: dict = {}
    for family, clips in fams.items():
        recordings = []  # (kind, recording)
        for fam, group in crowds.crowds_of({family: clips}, 6):
            tiles = [crowds.read_tile(p, frames, skip=10) for p in group]
            for occ in (True, False):
                crowd = crowds.compose(tiles, columns, tile, occ, 40, 1.5)
                recordings.append(("occluded" if occ else "clear", record(crowd, detector, scorer, 25.0, inside, keep_static=True)))
        for a, b in itertools.pairwise(clips):
            fa, fb = crowds.read_tile(a, first, skip=10), crowds.read_tile(b, second, skip=10)
            pair = crowds.replacement([cv2.resize(f, (640, 480)) for f in fa], [cv2.resize(f, (640, 480)) for f in fb], detector)
            recordings.append(("replacement", record(pair, detector, scorer, 25.0, None, keep_static=True)))
        for name, settings in candidates.items():
            row = table.setdefault((name, family), {"occluded": [0, 0, 0], "clear": [0, 0, 0], "replacements": [0, 0]})
            for kind, rec in recordings:
                fin = finaliser(settings)
                delivered = replay(rec, fin)
                if kind == "replacement":
                    row["replacements"][0] += 1
                    row["replacements"][1] += spans(delivered, first)
                    # people no delivered best crop shows (the first ``first`` frames are the first person's)
                    shown = {int(r.best.frame_index) >= first for r in delivered}
                    row.setdefault("replaced_without", 0)
                    row["replaced_without"] += 2 - len(shown)
                    row["replaced_snapshots"] = row.get("replaced_snapshots", 0) + len(delivered)  # session 17b's cost
                    continue
                figs = crowd_figures(rec, delivered, fin.links, tile_of)
                cell = row[kind]
                cell[0] += len(figs["tracked_tiles"])
                cell[1] += figs["snapshots"]
                cell[2] += figs["wrong_joins"]
            print(json.dumps({"rule": name, "family": family, **row}), flush=True)
    families = list(fams)
    held = {}
    for out in families:
        def score(name, out=out):
            rows = [table[(name, f)] for f in families if f != out]
            wrong = sum(r["occluded"][2] + r["replacements"][1] for r in rows)
            return (wrong, sum(r["occluded"][1] for r in rows) / max(1, sum(r["occluded"][0] for r in rows)))
        best = min(candidates, key=score)
        held[out] = {"chosen": best, **table[(best, out)]}
        r = table[(best, out)]
        print(f"held out {out:12s}: chose '{best}': occluded {r['occluded'][1]} / {r['occluded'][0]}, wrong "
              f"{r['occluded'][2]}; clear {r['clear'][1]} / {r['clear'][0]}, wrong {r['clear'][2]}; replacements "
              f"joined {r['replacements'][1]}/{r['replacements'][0]}")
    print_held_out_totals(held, ('occluded', 'clear'))
    print_all_families(table, candidates, families, ('occluded', 'clear'))
    write_json(args.json, table, held)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
