"""The link veto (left by the edge, came out from behind someone else), chosen leave-one-source-out (docs/persons.md "The link veto").

    python experiments/link_veto_loso.py [--layouts 6] [--families F ...]

Material (made in memory, never written), per source family of :mod:`facesel.eval.crowds`: its
**crossing crowds** (:mod:`facesel.eval.crowds_crossing`, ``--layouts`` walks per group of clips)
and its **occluded tiled crowds** (:func:`facesel.eval.crowds.compose`). Each is run once through
the default Selector (``keep_static`` on, the default scorer) with a recorder, then replayed
through a default finaliser per candidate :attr:`LinkRule.veto` (:mod:`facesel.eval.crowds_replay`).

Printed: every link of the default (no veto) that joined two people with the facts each veto
reads (gap, the border left by, who was in front at each end); per candidate and family the
snapshots, persons, wrong joins (snapshots on two people) and links between fragments of one
person that the candidate no longer makes (genuine links refused); per held-out family the
candidate with the fewest wrong joins on the other families, then the fewest snapshots per person
on their crossing crowds, then the first listed (no veto).
"""

from __future__ import annotations

import argparse

import cv2

CANDIDATES = {"off": (), "edge": ("edge",), "entered": ("entered",), "edge+entered": ("edge", "entered"),
              "reversed": ("reversed",), "edge+entered+reversed": ("edge", "entered", "reversed"),
              "cover_other": ("cover_other",), "edge+entered+cover_other": ("edge", "entered", "cover_other")}


def _cover(c) -> str:
    return "nobody" if c is None else f"track {c[0]} ({c[1]:.2f} sides, x{c[2]:.2f}, obs {c[3]})"


def main(argv=None) -> int:
    from facesel.data import data_root
    from facesel.detect import make_detector
    from facesel.eval import crowds
    from facesel.eval.crowds_crossing import crossing_crowd
    from facesel.eval.crowds_replay import crowd_figures, keep_fragments, record, replay
    from facesel.select.faceness import FacenessRule
    from facesel.select.finalise import DOSE_FACE_FLOOR, Finaliser
    from facesel.select.linking import (
        LinkRule,
        entered_by_edge,
        head_velocity,
        left_by_edge,
        reversed_direction,
    )
    from facesel.selector import default_scorer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layouts", type=int, default=6)
    parser.add_argument("--families", nargs="*", default=None)
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    detector = make_detector(max_side=1280)
    scorer = default_scorer()
    tile, columns, frames = 240, 3, 150
    tile_of, inside = crowds.tile_locator((tile * 3 // 4, tile), columns)
    fams = crowds.families(data_root())
    if args.families:
        fams = {k: v for k, v in fams.items() if k in args.families}
    groups = crowds.crowds_of(fams, 6)

    class Recording(Finaliser):
        """Records who was in front even without a rule that reads it (the facts printed for the default)."""
        records_covers = property(lambda self: True)

    def run(rec, truth, veto):
        fin = Finaliser.for_scorer(scorer, 0.25, faceness=FacenessRule(min_quality=DOSE_FACE_FLOOR, suppress_static=False),
                                   link=LinkRule(veto=veto))
        if not veto:
            fin.__class__ = Recording  # the same decisions: no rule of it reads the covers
        fragments = keep_fragments(fin)
        delivered = replay(rec, fin)
        figs = crowd_figures(rec, delivered, fin.links, tile_of, truth=truth)
        return figs, fin, fragments

    table = {}  # (candidate, family, kind) -> [persons, snapshots, wrong joins, genuine links refused]
    for family in fams:
        recordings = []
        for fam, group in groups:
            if fam != family:
                continue
            for layout in range(args.layouts):
                crowd, truth = crossing_crowd(group, 200, layout=layout)
                recordings.append(("crossing", f"walk {layout}", record(crowd, detector, scorer, 25.0, locate=truth.person_at,
                                                                        keep_static=True), truth))
            tiles = [crowds.read_tile(p, frames, skip=10) for p in group]
            crowd = crowds.compose(tiles, columns, tile, True, 40, 1.5)
            recordings.append(("occluded", "tiled", record(crowd, detector, scorer, 25.0, inside, keep_static=True), None))
        for kind, label, rec, truth in recordings:
            base_links = None
            for name, veto in CANDIDATES.items():
                figs, fin, fragments = run(rec, truth, veto)
                genuine = {(a, b) for a, b in fin.links
                           if rec.tiles_of.get(int(a)) and rec.tiles_of.get(int(a)) == rec.tiles_of.get(int(b))}
                if base_links is None:
                    base_links = genuine
                    for m, ks in sorted(rec.tiles_of.items()):  # one fragment on two people: the tracker's doing
                        if len(ks) > 1:
                            print(f"  [{family} {kind} {label}] WRONG fragment {m} on {sorted(ks)} (the tracker's)", flush=True)
                    last = {}  # chain id -> its latest fragment (fin.links names chains by their first id)
                    for root, b in fin.links:
                        a = last.get(int(root), int(root))
                        last[int(root)] = int(b)
                        ta, tb = rec.tiles_of.get(int(a), set()), rec.tiles_of.get(int(b), set())
                        fa, fb = fragments.get(int(a)), fragments.get(int(b))
                        if fa is None or fb is None:
                            continue
                        vb = head_velocity(fb)
                        tag = "WRONG" if ta and tb and ta != tb else "genuine" if ta and ta == tb else "unplaced"
                        print(f"  [{family} {kind} {label}] {tag} link {a} ({fa.first_frame}-{fa.last_frame}) {sorted(ta)} -> "
                              f"{b} ({fb.first_frame}-{fb.last_frame}) {sorted(tb)}: gap {fb.first_time - fa.last_time:.2f} s, "
                              f"last box {[round(v) for v in fa.last_box.tolist()]} v {[round(v) for v in fa.velocity().tolist()]}, "
                              f"first box {[round(v) for v in fb.first_box.tolist()]} v {None if vb is None else [round(v) for v in vb.tolist()]}, "
                              f"left by {left_by_edge(fa, fb, 0.02)}, entered by {entered_by_edge(fa, fb, 0.02)}, "
                              f"reversed {reversed_direction(fa, fb, 0.5)}; "
                              f"in front: {_cover(fa.covered_at_end())} -> {_cover(fb.cover_head)}", flush=True)
                cell = table.setdefault((name, family, kind), [0, 0, 0, 0])
                cell[0] += len(figs["tracked_tiles"])
                cell[1] += figs["snapshots"]
                cell[2] += figs["wrong_joins"]
                cell[3] += len(base_links - genuine)
        for name in CANDIDATES:
            print(f"{family:16s} {name:18s} " + "  ".join(f"{k}: {table[(name, family, k)]}" for k in ("crossing", "occluded")
                                                           if (name, family, k) in table), flush=True)
    families = list(fams)

    def cell(name, fam, kind):
        return table.get((name, fam, kind), [0, 0, 0, 0])

    print("\ncandidate totals [persons, snapshots, wrong joins, genuine links refused]:")
    for name in CANDIDATES:
        tot = {k: [sum(cell(name, f, k)[i] for f in families) for i in range(4)] for k in ("crossing", "occluded")}
        print(f"  {name:18s} crossing {tot['crossing']}  occluded {tot['occluded']}")
    print("\nheld out:")
    sums = {"crossing": [0, 0, 0, 0], "occluded": [0, 0, 0, 0]}
    for out in families:
        def score(name, out=out):
            rest = [f for f in families if f != out]
            wrong = sum(cell(name, f, k)[2] for f in rest for k in ("crossing", "occluded"))
            return (wrong, sum(cell(name, f, "crossing")[1] for f in rest) / max(1, sum(cell(name, f, "crossing")[0] for f in rest)))
        best = min(CANDIDATES, key=score)
        c, o, d = cell(best, out, "crossing"), cell(best, out, "occluded"), cell("off", out, "crossing")
        for k, v in (("crossing", c), ("occluded", o)):
            sums[k] = [a + b for a, b in zip(sums[k], v)]
        print(f"  {out:16s} chose {best:18s}: crossing {c[1]} / {c[0]} wrong {c[2]} refused {c[3]} (off {d[1]} / {d[0]} "
              f"wrong {d[2]}); occluded {o[1]} / {o[0]} wrong {o[2]} refused {o[3]}")
    for k, v in sums.items():
        print(f"  held out, all, {k}: {v[1]} / {v[0]} = {v[1] / max(1, v[0]):.2f}, wrong {v[2]}, genuine refused {v[3]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
