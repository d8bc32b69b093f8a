"""How close to a gate's limit are the default's links, genuine and wrong? (issue 23, session 17:
hedged links, docs/persons.md "Hedged links"). Step one of the hedge: which margin separates the
short link's wrong joins from the links between one person's fragments.

    python experiments/hedge_margins.py --layouts 6 --json /tmp/hedge17-margins.json \
        [--edge /tmp/hedge17-edge-*.pkl]

Material: per source family the crossing crowds (``--layouts`` walks) and the occluded tiled
crowds of ``experiments/short_link_loso.py``, recorded through the default Selector and replayed
through the default finaliser; and, pair level, the edge material's 5-frame gaps
(``--edge``: copies of ``edge_return_loso``'s caches of fragment summaries; consecutive
fragments at most 1 s apart that the default's short link joins). For every link the default
makes (a chain's latest fragment and the fragment it takes) the short link's gates measured on
the final fragments (:func:`facesel.select.link_explain.explain`: gap, colours, size, position
and its allowance), whether a switch cue ended the earlier one, and how many other tracks were
near the place during the gap (:func:`facesel.select.linking.crowding`, radius 2 box sides).
A link is **wrong** when its two fragments lie on two walkers (tiles, people), **genuine** when on
one. Printed: per margin the ranges of both kinds, and how many of each a limit fraction would
flag. Nothing is chosen here; counts and summaries only, never pixels.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parent))


def margins(rule, a, b, others) -> dict:
    """The facts of one link ``a -> b`` (two TrackEvidence) as fractions of their limits."""
    from facesel.select.link_explain import explain
    from facesel.select.linking import crowding

    x = explain(rule, a, b)
    return {"gap": x["gap"] / rule.max_gap_seconds,
            "colour": None if x["colour"] is None else x["colour"] / rule.max_colour_distance,
            "position": x["position"] / max(x["allowance"], 1e-9),
            "size": (x["size"] - 1.0) / (rule.max_size_ratio - 1.0),
            "cue": x["ended_by"] is not None, "crowd": crowding(a, b, list(others), rule.crowd_radius),
            "short": x["gap"] <= rule.max_gap_seconds}


def crowd_links(fams, layouts: int, out: list) -> None:
    """Every link of the default on the crossing and occluded tiled crowds into ``out``."""
    from facesel.detect import make_detector
    from facesel.eval import crowds
    from facesel.eval.crowds_crossing import crossing_crowd
    from facesel.eval.crowds_replay import keep_fragments, record, replay
    from facesel.select.faceness import FacenessRule
    from facesel.select.finalise import DOSE_FACE_FLOOR, Finaliser
    from facesel.select.linking import LinkRule
    from facesel.selector import default_scorer

    detector, scorer, rule = make_detector(max_side=1280), default_scorer(), LinkRule()
    tile, columns, frames = 240, 3, 150
    _, inside = crowds.tile_locator((tile * 3 // 4, tile), columns)
    for family in fams:
        for fam, group in crowds.crowds_of(fams, 6):
            if fam != family:
                continue
            runs = []
            for layout in range(layouts):
                crowd, truth = crossing_crowd(group, 200, layout=layout)
                runs.append(("crossing", record(crowd, detector, scorer, 25.0, locate=truth.person_at, keep_static=True)))
            tiles = [crowds.read_tile(p, frames, skip=10) for p in group]
            runs.append(("occluded", record(crowds.compose(tiles, columns, tile, True, 40, 1.5), detector, scorer, 25.0,
                                            inside, keep_static=True)))
            for kind, rec in runs:
                fin = Finaliser.for_scorer(scorer, 0.25, faceness=FacenessRule(min_quality=DOSE_FACE_FLOOR, suppress_static=False))
                fragments = keep_fragments(fin)
                replay(rec, fin)
                last = {}
                for root, b in fin.links:
                    a = last.get(int(root), int(root))
                    last[int(root)] = int(b)
                    ta, tb = rec.tiles_of.get(a, set()), rec.tiles_of.get(int(b), set())
                    if not ta or not tb or a not in fragments or int(b) not in fragments:
                        continue
                    m = margins(rule, fragments[a], fragments[int(b)], fragments.values())
                    m.update(family=family, kind=kind, wrong=ta != tb)
                    out.append(m)
            print(f"{family}: {len(out)} links so far", flush=True)


def edge_links(paths, out: list) -> None:
    """The edge material's short links of the default, pair level, into ``out``."""
    import itertools

    from facesel.select.linking import LinkRule

    rule = LinkRule()
    for path in paths:
        for family, rows in pickle.loads(Path(path).read_bytes()).items():
            for name, r in rows:
                frags = r["fragments"]
                for e, _ in frags:
                    e.frame_shape = (360, 480)
                ordered = sorted(frags, key=lambda f: f[0].first_time)
                for (a, pa), (b, pb) in itertools.pairwise(ordered):
                    if pa < 0 or pb < 0 or rule.cost(a, b) is None:
                        continue
                    if not -rule.max_overlap_seconds <= b.first_time - a.last_time <= rule.max_gap_seconds:
                        continue
                    m = margins(rule, a, b, [e for e, _ in frags])
                    m.update(family=family, kind="edge " + name.split()[0], wrong=pa != pb)
                    out.append(m)


def summary(links: list) -> None:
    """Per kind of material, the ranges of each margin for wrong and genuine short links, and how
    many of each a limit fraction flags."""
    short = [m for m in links if m["short"]]
    for kind in sorted({m["kind"].split()[0] for m in short}):
        rows = [m for m in short if m["kind"].startswith(kind)]
        wrong, genuine = [m for m in rows if m["wrong"]], [m for m in rows if not m["wrong"]]
        print(f"\n{kind}: {len(wrong)} wrong, {len(genuine)} genuine short links")
        for key in ("colour", "position", "gap", "size"):
            for label, group in (("wrong", wrong), ("genuine", genuine)):
                vals = sorted(m[key] for m in group if m[key] is not None)
                none = sum(1 for m in group if m[key] is None)
                text = " ".join(f"{v:.2f}" for v in vals) if label == "wrong" else \
                    (f"quartiles {vals[len(vals) // 4]:.2f} {vals[len(vals) // 2]:.2f} {vals[3 * len(vals) // 4]:.2f}" if vals else "-")
                print(f"  {key:8s} {label:7s} (none {none}): {text}")
            for f in (0.5, 0.6, 0.7, 0.8, 0.9):
                fw = sum(1 for m in wrong if m[key] is None or m[key] >= f) if key == "colour" else sum(1 for m in wrong if m[key] >= f)
                fg = sum(1 for m in genuine if m[key] is None or m[key] >= f) if key == "colour" else sum(1 for m in genuine if m[key] >= f)
                print(f"    >= {f:.1f}{' or none' if key == 'colour' else ''}: wrong {fw}/{len(wrong)}, genuine {fg}/{len(genuine)}")
        for label, group in (("wrong", wrong), ("genuine", genuine)):
            print(f"  cue {label}: {sum(m['cue'] for m in group)}/{len(group)}; crowd>0 {sum(m['crowd'] > 0 for m in group)}/{len(group)}")


def main(argv=None) -> int:
    from facesel.data import data_root
    from facesel.eval import crowds

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layouts", type=int, default=6)
    parser.add_argument("--families", nargs="*", default=None)
    parser.add_argument("--edge", nargs="*", default=(), help="copies of edge_return_loso's caches (pair level)")
    parser.add_argument("--no-crowds", action="store_true")
    parser.add_argument("--json", type=Path, default=None, help="write every link's margins here")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    links: list = []
    edge_links(args.edge, links)
    if not args.no_crowds:
        fams = crowds.families(data_root())
        if args.families:
            fams = {k: v for k, v in fams.items() if k in args.families}
        crowd_links(fams, args.layouts, links)
    if args.json is not None:
        args.json.write_text(json.dumps(links))
    summary(links)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
