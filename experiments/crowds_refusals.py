"""Which re-link gate refused: every person of the occluded tiled crowds who got more than one snapshot.

    python experiments/crowds_refusals.py [--clear | --crossing | --approach] [--rule default|ends|short|chain_off|chain] [--families F ...]

Each crowd of :mod:`facesel.eval.crowds` (occluded unless ``--clear``; the default Selector, the
Laplacian scorer, ``keep_static`` as ``facesel eval crowds`` runs them) is recorded once
(:mod:`facesel.eval.crowds_replay`) and replayed through a finaliser that, each time it releases
a fragment without a successor, keeps a copy of every fragment it could have been joined to at
that moment. Then, per tile with more than one snapshot, for each pair of consecutive snapshots
(the earlier one's last fragment, the later one's first), :func:`facesel.select.link_explain.explain`
says which gates refused at the moment of the decision (or that the later fragment had not started
yet, or was taken by another fragment). Printed as a table (docs/persons.md, "Occluded crowds").
``--crossing``: the crossing crowds of :mod:`facesel.eval.crowds_crossing` instead (a "tile" is a
walker, placed per frame by its ground truth); every re-link that joined two walkers is printed too,
with the gates it passed. ``--approach``: the crowds walking at the camera of
:mod:`facesel.eval.crowds_approach` (placed the same way).
"""

from __future__ import annotations

import argparse
import copy
import itertools
from collections import Counter

import cv2


def _cover(cover) -> str:
    """A recorded cover (track id, distance in its sides, size ratio, observation) in words."""
    return "nobody" if cover is None else f"track {cover[0]} ({cover[1]:.2f} sides, x{cover[2]:.2f}, obs {cover[3]})"


def main(argv=None) -> int:
    from facesel.data import data_root
    from facesel.detect import make_detector
    from facesel.eval import crowds
    from facesel.eval.crowds import tile_locator
    from facesel.eval.crowds_approach import approach_crowd
    from facesel.eval.crowds_crossing import crossing_crowd
    from facesel.eval.crowds_replay import crowd_figures, keep_fragments, record, replay
    from facesel.scoring import LaplacianVarianceScorer
    from facesel.select.faceness import FacenessRule
    from facesel.select.finalise import DOSE_FACE_FLOOR, Finaliser
    from facesel.select.link_explain import explain
    from facesel.select.linking import LinkRule

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clear", action="store_true", help="the crowds without occluders")
    parser.add_argument("--crossing", action="store_true", help="the crossing crowds (people passing in front of each other)")
    parser.add_argument("--approach", action="store_true", help="the crowds walking at the camera (faces growing)")
    parser.add_argument("--layouts", type=int, default=1, help="crossing / approaching crowds: walks per group of clips")
    parser.add_argument("--families", nargs="*", default=None)
    parser.add_argument("--rule", default="default", choices=("default", "ends", "short", "chain_off", "chain", "covered", "covered_any"),
                        help="default: LinkRule(); ends: the colour sample before (colour_sample='ends'); short: no long links; "
                             "chain_off: the default without absorbing a skipped short fragment; chain: chain_through=later; "
                             "covered: the default with covered links (covered_gap_seconds=3); covered_any: the same, cover_reach 2.5, "
                             "any track in front at each end")
    parser.add_argument("--scorer", default="default", choices=("default", "laplacian"),
                        help="the pipeline's default scorer (as `facesel eval crowds`) or the Laplacian (as crowds_loso.py)")
    parser.add_argument("--verbose", action="store_true", help="also every fragment of each snapshot")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    from facesel.selector import default_scorer

    detector = make_detector(max_side=1280)
    scorer = LaplacianVarianceScorer() if args.scorer == "laplacian" else default_scorer()
    rule = {"default": LinkRule(), "ends": LinkRule(colour_sample="ends", chain_through=None),
            "short": LinkRule(long_gap_seconds=None, chain_through=None),
            "chain_off": LinkRule(chain_through=None), "chain": LinkRule(chain_through="later"),
            "covered": LinkRule(covered_gap_seconds=3.0),
            "covered_any": LinkRule(covered_gap_seconds=3.0, cover_reach=2.5, cover_same=False)}[args.rule]
    fams = crowds.families(data_root())
    if args.families:
        fams = {k: v for k, v in fams.items() if k in args.families}
    tile, columns, frames = 240, 3, 150
    tile_of, inside = tile_locator((tile * 3 // 4, tile), columns)
    reasons = Counter()
    total_persons = total_snaps = 0
    groups = crowds.crowds_of(fams, 6)
    walking = args.crossing or args.approach
    layouts = range(args.layouts) if walking else [None]
    groups = [(f, c, lay) for lay in layouts for f, c in groups]
    for family, clips, seed in groups:
        truth = None
        if walking:
            crowd, truth = (approach_crowd if args.approach else crossing_crowd)(clips, 200, layout=seed)
            rec = record(crowd, detector, scorer, 25.0, locate=truth.person_at, keep_static=True)
        else:
            tiles = [crowds.read_tile(p, frames, skip=10) for p in clips]
            crowd = crowds.compose(tiles, columns, tile, not args.clear, 40, 1.5)
            rec = record(crowd, detector, scorer, 25.0, inside, keep_static=True)
        fin = Finaliser.for_scorer(scorer, 0.25, faceness=FacenessRule(min_quality=DOSE_FACE_FLOOR, suppress_static=False),
                                   link=rule)
        asked = {}  # (chain id, last frame of its last fragment) -> what the finaliser knew when it asked
        cont = fin._continue

        def spy(held, open_ok=True, fin=fin, cont=cont, asked=asked):
            cands = {t: copy.deepcopy(h.evidence) for t, h in fin._held.items()}
            if open_ok:
                cands.update({t: copy.deepcopy(e) for t, e in fin.evidence.items()})
            waiting, before = set(fin._waiting), len(fin.links)
            done = cont(held, open_ok)
            chosen = fin.links[-1][1] if done and len(fin.links) > before else None
            asked[(int(held.result.track_id), int(held.evidence.last_frame))] = (copy.deepcopy(held.evidence), cands, waiting, chosen)
            return done

        fin._continue = spy
        fragments = keep_fragments(fin)  # fragment id -> its own evidence (before any merge)
        delivered = replay(rec, fin)
        figs = crowd_figures(rec, delivered, fin.links, tile_of, truth=truth)

        def place(result, truth=truth):
            if truth is None:
                return tile_of(result.best.box)
            k = truth.person_at(result.best.box, result.best.frame_index, strict=False)
            return -1 if k is None else k

        chains = crowds._chains(fin.links)
        persons = len(figs["tracked_tiles"])
        total_persons += persons
        total_snaps += figs["snapshots"]
        mode = "approach" if args.approach else "crossing" if args.crossing else "clear" if args.clear else "occluded"
        print(f"\n== {family} {mode} (walk {seed}): {figs['snapshots']} snapshots / {persons} "
              f"persons, wrong joins {figs['wrong_joins']}, per tile {[figs['per_tile'].get(k, 0) for k in range(len(clips))]}")
        root_of = {m: int(r.track_id) for r in delivered for m in chains.get(int(r.track_id), {int(r.track_id)})}
        by_tile: dict[int, list] = {}
        for r in delivered:
            by_tile.setdefault(place(r), []).append(r)
        for m, ks in sorted(rec.tiles_of.items()):  # one fragment on two people: the tracker's (or a cue's) doing
            if len(ks) > 1:
                reasons["WRONG fragment (the tracker: two people in one track)"] += 1
                f = fragments.get(int(m))
                print(f"  WRONG fragment {m} ({'?' if f is None else f'{f.first_frame}-{f.last_frame}'}) on walkers {sorted(ks)}")
        for a, b in fin.links:  # re-links that joined two people
            ta, tb = rec.tiles_of.get(int(a), set()), rec.tiles_of.get(int(b), set())
            if ta and tb and ta != tb:
                reasons["WRONG link (two people)"] += 1
                info = next((v for (root, _), v in asked.items() if v[3] == b), None)
                detail = ""
                if info is not None and b in info[1]:
                    e = explain(rule, info[0], info[1][b])
                    colour = "-" if e["colour"] is None else f"{e['colour']:.2f}"
                    detail = (f"gap {e['gap']:.2f} s, colour {colour}, size {e['size']:.2f}, position {e['position']:.2f} "
                              f"/ allowance {e['allowance']:.2f}, ended_by {e['ended_by']}")
                fa, fb = fragments.get(int(a)), fragments.get(int(b))
                span = (f"{a} ({fa.first_frame}-{fa.last_frame}) walkers {sorted(ta)} -> {b} ({fb.first_frame}-{fb.last_frame}) "
                        f"walkers {sorted(tb)}") if fa is not None and fb is not None else f"{a} -> {b}"
                print(f"  WRONG link {span}: {detail}")
        for k, items in sorted(by_tile.items()):
            if len(items) < 2:
                continue
            print(f"  tile {k} ({clips[k].name if k < len(clips) else '?'}): {len(items)} snapshots")
            members = sorted((m for r in items for m in chains.get(int(r.track_id), {int(r.track_id)}) if m in fragments),
                             key=lambda m: (fragments[m].first_frame, fragments[m].last_frame))
            if args.verbose:
                for r in items:
                    parts = ", ".join(f"{m}: {fragments[m].first_frame}-{fragments[m].last_frame}"
                                      f"{' ended ' + str(fragments[m].ended_by) if fragments[m].ended_by else ''}"
                                      for m in sorted(chains.get(int(r.track_id), {int(r.track_id)})) if m in fragments)
                    print(f"      snapshot {int(r.track_id)}: {parts}")
            # every pair of fragments consecutive in time (by start) that ended in two snapshots
            for a, b in itertools.pairwise(members):
                if root_of[a] == root_of[b]:
                    continue
                fa, fb = fragments[a], fragments[b]
                span = f"{a} ({fa.first_frame}-{fa.last_frame}) -> {b} ({fb.first_frame}-{fb.last_frame})"
                info = asked.get((root_of[a], fa.last_frame))
                if fb.first_frame <= fa.first_frame or fb.first_time < fa.last_time - rule.max_overlap_seconds:
                    why, detail = "overlap in time (two tracks at once)", ""
                elif info is None:
                    why, detail = "asked only at the end of the stream", ""
                else:
                    ev_a, cands, waiting, chosen = info
                    if b in waiting:
                        # Taken, and would the gates have let B continue A at all? (A skipped short
                        # fragment is often also refused by them: then taking B cost nothing.)
                        why = "B already taken by another fragment"
                        if b in cands:
                            e = explain(rule, ev_a, cands[b])
                            why += f" (gates: {'+'.join(e['refused']) or 'pass'})"
                            detail = f"position {e['position']:.2f} / allowance {e['allowance']:.2f}"
                        else:
                            detail = ""
                    elif b not in cands:
                        why, detail = ("B not started when A was asked (gap)" if fb.first_time > ev_a.last_time
                                       else "B no longer a candidate"), f"gap {fb.first_time - fa.last_time:.2f} s"
                        detail += (f"; in front: {_cover(ev_a.cover_tail)} at the end (count {ev_a.count}), "
                                   f"{_cover(fb.cover_head)} at the start")
                    else:
                        e = explain(rule, ev_a, cands[b])
                        why = "+".join(e["refused"]) or f"passes: a cheaper link won ({chosen})"
                        colour = "-" if e["colour"] is None else f"{e['colour']:.2f}"
                        detail = (f"gap {e['gap']:.2f} s, ended_by {e['ended_by']}, colour {colour}, size {e['size']:.2f}, "
                                  f"position {e['position']:.2f} (pred {e['predicted']:.2f}, stayed {e['stayed']:.2f}) "
                                  f"/ allowance {e['allowance']:.2f}; in front: {_cover(ev_a.cover_tail)} at the end, "
                                  f"{_cover(cands[b].cover_head)} at the start")
                reasons[why] += 1
                print(f"    {span}: {why}; {detail}")
    print(f"\nall: {total_snaps} snapshots / {total_persons} persons = {total_snaps / max(1, total_persons):.2f}")
    for why, n in reasons.most_common():
        print(f"  {n:3d}  {why}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
