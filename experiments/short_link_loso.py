"""The default short link's wrong joins: which gate let each through, and three pre-registered gates
chosen leave-one-family-out (docs/persons.md "The short link's wrong joins").

    python experiments/short_link_loso.py [--layouts 6] [--families F ...] [--edge /tmp/edge23/material.pkl]
        [--guards /tmp/relink23/material.pkl]

Candidates (:data:`CANDIDATES`, written down before measuring; :class:`LinkRule` settings, every
other gate the default's): ``behind`` (``behind_distance`` 0.5: a short link refused when the
later fragment starts more than half a box side behind where the earlier, moving at least half a
box side a second, was last seen), ``edge_short`` (``edge_short_colour_distance`` 0.3: a short
link across the frame's edge needs colours within 0.3 instead of 0.5), and both. ``veto
edge+entered`` (the link veto of the last session) is printed for reference, never chosen.

Material, per source family of :mod:`facesel.eval.crowds` (signers, LivePortrait,
video-retalking, other):

- its **crossing crowds** (:mod:`facesel.eval.crowds_crossing`, ``--layouts`` walks per group)
  and its **occluded tiled crowds** (:func:`facesel.eval.crowds.compose`): recorded once through
  the default Selector (default scorer, ``keep_static``), replayed per candidate
  (:mod:`facesel.eval.crowds_replay`): end to end, persons, snapshots, wrong joins (a snapshot on
  two people) and genuine links refused (links of the default between fragments of one person
  that the candidate no longer makes);
- its **edge material** (``--edge``: ``experiments/edge_return_loso.py``'s cache of fragments,
  re-linking off; summaries, never pixels; frame 480 x 360): pair level, every pair of
  consecutive fragments at most 1 s apart: a **next person** run is joined when the candidate
  links its two people's fragments; a **return** pair of one person that the default links and the
  candidate does not is a genuine link refused.

Printed: every wrong link of the default with each gate's value (``link_explain.explain`` on the
final fragments, not the partial ones the finaliser may have asked about), how far behind, whether
at an edge, and which candidate refuses it; per candidate and family the counts; per held-out
family the candidate with the fewest wrong joins on the other three (crossing, tiled and edge),
then the fewest genuine links refused, then the fewest snapshots per person on their crossing
crowds, ties to ``off``. ``--guards``: ``experiments/relink_lone_loso.py``'s cached pause /
next-person / splice / crowd / video fragments, pair level: the default's short links between one
person's fragments (genuine) and two people's (wrong) that each candidate refuses.
"""

from __future__ import annotations

import argparse
import itertools
import pickle
import sys
from pathlib import Path

import cv2

CANDIDATES = {"off": {}, "behind": {"behind_distance": 0.5}, "edge_short": {"edge_short_colour_distance": 0.3},
              "short_both": {"behind_distance": 0.5, "edge_short_colour_distance": 0.3}}
REFERENCE = {"veto edge+entered": {"veto": ("edge", "entered")}}
EDGE_FRAME = (360, 480)
KINDS = ("crossing", "occluded", "edge")


def facts(rule, a, b) -> str:
    """One line: the gates of the default between ``a`` and ``b`` and the candidates' facts."""
    from facesel.select.link_explain import explain
    from facesel.select.linking import (
        edges_crossed,
        entered_by_edge,
        head_velocity,
        left_by_edge,
    )
    from facesel.select.short_gates import behind

    x = explain(rule, a, b)
    vb = head_velocity(b)
    back = behind(a, b, rule.reverse_speed)
    verdicts = " ".join(f"{k}:{'link' if link_of(v).cost(a, b) is not None else 'REFUSE'}"
                        for k, v in {**CANDIDATES, **REFERENCE}.items() if k != "off")
    col = "none" if x["colour"] is None else f"{x['colour']:.2f}"
    return (f"gap {x['gap']:.2f} s, colour {col}, size x{x['size']:.2f}, position {x['position']:.2f} "
            f"(predicted {x['predicted']:.2f}, stayed {x['stayed']:.2f}; allowance {x['allowance']:.2f}), "
            f"v {[round(v) for v in a.velocity().tolist()]} -> {None if vb is None else [round(v) for v in vb.tolist()]} px/s, "
            f"behind {'-' if back is None else f'{back:.2f}'} sides, "
            f"left by {sorted(edges_crossed(a, 'tail', rule.window, rule.edge_margin))} "
            f"in by {sorted(edges_crossed(b, 'head', rule.window, rule.edge_margin))} "
            f"(veto edge {left_by_edge(a, b, 0.02)}, entered {entered_by_edge(a, b, 0.02)}); {verdicts}")


FINALISER_KEYS = ("interleave_waiting", "await_predecessor", "hedge", "bridge")
"""Candidate settings that belong to the :class:`~facesel.select.finalise.Finaliser`, not the
:class:`~facesel.select.linking.LinkRule` (a candidate family may mix them: motion_gap_loso ``--set order``)."""


RECORD_SETTINGS: dict = {}
"""PipelineConfig changes every material is recorded with (the continuity bridge's follower, whose
hints need the frames: ``motion_gap_loso.py --set bridge``); empty for every other set."""


def link_of(settings: dict):
    """The :class:`LinkRule` of a candidate's ``settings`` (its finaliser settings left out)."""
    from facesel.select.linking import LinkRule

    return LinkRule(**{k: v for k, v in settings.items() if k not in FINALISER_KEYS})


def finaliser_of(settings: dict) -> dict:
    """The :class:`~facesel.select.finalise.Finaliser` settings of a candidate's ``settings``."""
    return {k: v for k, v in settings.items() if k in FINALISER_KEYS}


def rule_of(settings: dict):
    """What ``edge_return_loso.run_material`` replays a candidate with: its LinkRule, or
    (LinkRule, finaliser settings) when it has some."""
    extra = finaliser_of(settings)
    return (link_of(settings), extra) if extra else link_of(settings)


def wrong_links(where: str, rec, links, fragments, facts, skip=frozenset()) -> None:
    """Print each link of ``links`` (chain root, later fragment) between two people's fragments
    (their tiles differ), with ``facts`` of the default rule; links in ``skip`` are left out."""
    from facesel.select.linking import LinkRule

    last = {}  # chain id -> its latest fragment (fin.links names chains by their first id)
    for root, b in links:
        a = last.get(int(root), int(root))
        last[int(root)] = int(b)
        ta, tb = rec.tiles_of.get(a, set()), rec.tiles_of.get(int(b), set())
        if (int(root), int(b)) not in skip and ta and tb and ta != tb and a in fragments and int(b) in fragments:
            fa, fb = fragments[a], fragments[int(b)]
            print(f"  [{where}] WRONG link {a} ({fa.first_frame}-{fa.last_frame}) {sorted(ta)} -> {b} "
                  f"({fb.first_frame}-{fb.last_frame}) {sorted(tb)}: {facts(LinkRule(), fa, fb)}", flush=True)


def crowd_table(fams, layouts: int, table: dict) -> None:
    """Record and replay the crossing and occluded tiled crowds; fill ``table``."""
    from facesel.detect import make_detector
    from facesel.eval import crowds
    from facesel.eval.crowds_crossing import crossing_crowd
    from facesel.eval.crowds_replay import crowd_figures, keep_fragments, record, replay
    from facesel.select.faceness import FacenessRule
    from facesel.select.finalise import DOSE_FACE_FLOOR, Finaliser
    from facesel.selector import default_scorer

    detector = make_detector(max_side=1280)
    scorer = default_scorer()
    tile, columns, frames = 240, 3, 150
    tile_of, inside = crowds.tile_locator((tile * 3 // 4, tile), columns)
    groups = crowds.crowds_of(fams, 6)

    def run(rec, truth, settings):
        fin = Finaliser.for_scorer(scorer, 0.25, faceness=FacenessRule(min_quality=DOSE_FACE_FLOOR, suppress_static=False),
                                   link=link_of(settings), **finaliser_of(settings))
        fragments = keep_fragments(fin)
        delivered = replay(rec, fin)
        return crowd_figures(rec, delivered, fin.links, tile_of, truth=truth), fin, fragments

    for family in fams:
        for fam, group in groups:
            if fam != family:
                continue
            runs = []
            for layout in range(layouts):
                crowd, truth = crossing_crowd(group, 200, layout=layout)
                runs.append(("crossing", f"walk {layout}", record(crowd, detector, scorer, 25.0, locate=truth.person_at,
                                                                   keep_static=True, **RECORD_SETTINGS), truth))
            tiles = [crowds.read_tile(p, frames, skip=10) for p in group]
            runs.append(("occluded", "tiled", record(crowds.compose(tiles, columns, tile, True, 40, 1.5), detector, scorer,
                                                     25.0, inside, keep_static=True, **RECORD_SETTINGS), None))
            for kind, label, rec, truth in runs:
                base = None
                for name, settings in {**CANDIDATES, **REFERENCE}.items():
                    figs, fin, fragments = run(rec, truth, settings)
                    genuine = {(a, b) for a, b in fin.links
                               if rec.tiles_of.get(int(a)) and rec.tiles_of.get(int(a)) == rec.tiles_of.get(int(b))}
                    if base is None:
                        base, base_links = genuine, {(int(a), int(b)) for a, b in fin.links}
                        wrong_links(f"{family} {kind} {label}", rec, fin.links, fragments, facts)
                        for m, ks in sorted(rec.tiles_of.items()):
                            if len(ks) > 1:
                                print(f"  [{family} {kind} {label}] WRONG fragment {m} on {sorted(ks)} (the tracker's)", flush=True)
                    else:  # a candidate's own wrong links (those the default does not make)
                        wrong_links(f"{family} {kind} {label} {name}", rec, fin.links, fragments, facts, skip=base_links)
                    cell = table.setdefault((name, family, kind), [0, 0, 0, 0, 0])
                    cell[0] += len(figs["tracked_tiles"])
                    cell[1] += figs["snapshots"]
                    cell[2] += figs["wrong_joins"]
                    cell[3] += len(base - genuine)
                    # persons (walkers, tiles) no delivered snapshot's best crop shows (hedged links, session 17)
                    cell[4] += len(figs["tracked_tiles"] - set(figs["per_tile"]))
                    if len(fin.links) + len(getattr(fin, "hedges", [])) != len(base_links):
                        print(f"  [{family} {kind} {label} {name}] links {len(fin.links)} + hedged "
                              f"{len(getattr(fin, 'hedges', []))} differ from the default's {len(base_links)}", flush=True)
        for name in {**CANDIDATES, **REFERENCE}:
            print(f"{family:12s} {name:18s} " + "  ".join(f"{k}: {table[(name, family, k)]}" for k in ("crossing", "occluded")
                                                          if (name, family, k) in table), flush=True)


def edge_table(path: Path, fams, table: dict) -> None:
    """Pair level on the edge material; fill ``table`` [runs, next persons joined (as snapshots
    stand-in: 0), wrong joins, genuine links refused]."""
    from facesel.select.linking import LinkRule

    material = pickle.loads(path.read_bytes())
    default = LinkRule()
    for family, rows in material.items():
        if family not in fams:
            continue
        for name, r in rows:
            frags = r["fragments"]
            for e, _ in frags:
                e.frame_shape = EDGE_FRAME
            pairs = [(a, pa, b, pb) for (a, pa), (b, pb) in itertools.pairwise(sorted(frags, key=lambda f: f[0].first_time))
                     if -default.max_overlap_seconds <= b.first_time - a.last_time <= default.max_gap_seconds and pa >= 0 and pb >= 0]
            for cand, settings in {**CANDIDATES, **REFERENCE}.items():
                rule = link_of(settings)
                cell = table.setdefault((cand, family, "edge"), [0, 0, 0, 0])
                cell[0] += 1
                joined = any(pa != pb and rule.cost(a, b) is not None for a, pa, b, pb in pairs)
                cell[2] += joined
                cell[3] += sum(1 for a, pa, b, pb in pairs
                               if pa == pb and default.cost(a, b) is not None and rule.cost(a, b) is None)
                if cand == "off":
                    for a, pa, b, pb in pairs:
                        if pa != pb and default.cost(a, b) is not None:
                            print(f"  [{family} edge {name}] WRONG short link: {facts(default, a, b)}", flush=True)
        print(f"{family:12s} edge " + "  ".join(f"{k}: {table[(k, family, 'edge')]}" for k in {**CANDIDATES, **REFERENCE}),
              flush=True)


def edge_end_to_end(cache: Path, fams) -> None:
    """The edge material's 5-frame gaps (the short link's: 0.76-1.0 s) end to end: each clip recorded
    once through the default Selector and replayed per candidate (``edge_return_loso.record_material``;
    ``cache`` keeps summaries and counts, never pixels)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import edge_return_loso as erl
    from facesel.data import data_root
    from facesel.detect import make_detector
    from facesel.scoring import LaplacianVarianceScorer

    rules = {k: rule_of(v) for k, v in {**CANDIDATES, **REFERENCE}.items()}
    if cache.is_file():
        material = pickle.loads(cache.read_bytes())
    else:
        erl.GAPS = (5,)
        material = erl.record_material(data_root(), make_detector(max_side=1280), LaplacianVarianceScorer(), rules, cache,
                                       list(fams))
        cache.write_bytes(pickle.dumps(material))
    print("\nedge material, 5-frame gaps, end to end: return snapshots / returns (returns in one), next persons joined / nexts, wrong joins")
    for key in rules:
        print(f"  {key:18s} " + "  ".join(
            f"{f}: {t['return_snapshots']}/{t['returns']} ({t['returns_one']}), {t['next_joined']}/{t['nexts']}, {t['wrong']}"
            for f, t in ((f, erl.totals(rows, key)) for f, rows in material.items())), flush=True)


def guards(path: Path) -> None:
    """Pair level on relink_lone_loso's cache: the default's short links each candidate refuses."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from edge_return_loso import _frame_shape
    from facesel.select.linking import LinkRule

    material = pickle.loads(path.read_bytes())
    default = LinkRule()
    print("\nguards [default's short links between one person's fragments refused, between two people's refused / made]:")
    for source, runs in material.items():
        counts = {k: [0, 0, 0, 0] for k in {**CANDIDATES, **REFERENCE}}
        for name, frags in runs:
            shape = _frame_shape(source, name)
            for e, _ in frags:
                e.frame_shape = shape
            for (a, pa), (b, pb) in itertools.permutations(frags, 2):
                if pa < 0 or pb < 0 or b.first_frame <= a.first_frame:
                    continue
                if not -default.max_overlap_seconds <= b.first_time - a.last_time <= default.max_gap_seconds:
                    continue
                if default.cost(a, b) is None:
                    continue
                for k, settings in {**CANDIDATES, **REFERENCE}.items():
                    refused = link_of(settings).cost(a, b) is None
                    c = counts[k]
                    if pa == pb:
                        c[0] += refused
                        c[1] += 1
                    else:
                        c[2] += refused
                        c[3] += 1
        for k, c in counts.items():
            print(f"  {source:14s} {k:18s} one person {c[0]} of {c[1]} refused; two people {c[2]} of {c[3]} refused")


def held_out(table: dict, families: list, candidates: dict, reference: dict, kinds, score=None) -> None:
    """Print per candidate the totals over ``families`` of ``table`` ((name, family, kind) -> [persons
    or runs, snapshots, wrong joins, genuine links refused]) and, per held-out family, the candidate
    of ``candidates`` that ``score(name, rest)`` (smaller is better; default: wrong joins, then
    genuine links refused, then snapshots per person on the crossing crowds of the other families)
    chooses, with its figures on the family held out; ties to the first listed."""

    def cell(name, fam, kind):
        return table.get((name, fam, kind), [0, 0, 0, 0])

    def default_score(name, rest):
        wrong = sum(cell(name, f, k)[2] for f in rest for k in kinds)
        refused = sum(cell(name, f, k)[3] for f in rest for k in kinds)
        per = sum(cell(name, f, "crossing")[1] for f in rest) / max(1, sum(cell(name, f, "crossing")[0] for f in rest))
        return wrong, refused, per

    score = default_score if score is None else score
    print("\ncandidate totals [persons or runs, snapshots, wrong joins, genuine links refused]:")
    for name in {**candidates, **reference}:
        print(f"  {name:18s} " + "  ".join(f"{k} {[sum(cell(name, f, k)[i] for f in families) for i in range(4)]}" for k in kinds))
    print("\nheld out (chosen among " + ", ".join(candidates) + "):")
    sums = {k: [0, 0, 0, 0] for k in kinds}
    for out in families:
        rest = [f for f in families if f != out]
        best = min(candidates, key=lambda name, rest=rest: score(name, rest))
        for k in kinds:
            sums[k] = [a + b for a, b in itertools.zip_longest(sums[k], cell(best, out, k), fillvalue=0)]
        print(f"  {out:12s} chose {best:12s}: " + "; ".join(
            f"{k} {cell(best, out, k)} (off {cell('off', out, k)})" for k in kinds))
    for k, v in sums.items():
        print(f"  held out, all, {k}: {v}")


def main(argv=None) -> int:
    from facesel.data import data_root
    from facesel.eval import crowds

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layouts", type=int, default=6)
    parser.add_argument("--families", nargs="*", default=None)
    parser.add_argument("--edge", type=Path, default=None, help="edge_return_loso.py's cache")
    parser.add_argument("--guards", type=Path, default=None, help="relink_lone_loso.py's cache")
    parser.add_argument("--edge-e2e", type=Path, default=None, help="record (or read) the edge material's 5-frame gaps end to end here")
    parser.add_argument("--no-crowds", action="store_true", help="the cached material only")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    fams = crowds.families(data_root())
    if args.families:
        fams = {k: v for k, v in fams.items() if k in args.families}
    table: dict = {}
    if args.edge is not None:
        edge_table(args.edge, fams, table)
    if args.guards is not None:
        guards(args.guards)
    if args.edge_e2e is not None:
        edge_end_to_end(args.edge_e2e, fams)
    if not args.no_crowds:
        crowd_table(fams, args.layouts, table)
    held_out(table, list(fams), CANDIDATES, REFERENCE, KINDS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
