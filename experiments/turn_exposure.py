"""How often the turn link's cue fires at all on the held-out material (docs/persons.md "A head
turned away and back"): a candidate that changes nothing held out is only safe there if the
material shows heads in profile at fragments' ends.

    python experiments/turn_exposure.py [--families other ...] [--layouts 6] [--edge /tmp/track18-e2e-*.pkl]
    python experiments/turn_exposure.py --no-crowds --shared [NAME ...]   # the shared videos, owners unknown

Per family, the crossing crowds and the occluded tiled crowds (recorded through the default
Selector as ``experiments/short_link_loso.py`` does) and, from the caches of
``motion_gap_loso.py --edge-e2e``, the edge material's fragments: fragments, those that end in a
profile and those that start in one (:func:`facesel.select.facing.end_facing`, ``turn_count`` 2
and 3), and the ordered pairs (a later fragment starting at most 3 s after an earlier one ended)
whose ends show **opposite** profiles, by ground truth one person's or two people's, with the
heads' distance :func:`facesel.select.link_turns.turn_cost` measures (any distance). Counts only;
no pixel is kept.
"""

from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def exposure(fragments: list, label: str, counts: dict) -> None:
    """Count profiles and opposite-profile pairs among ``fragments`` ((evidence, owner) pairs; owner
    None: unknown) into ``counts``; print each opposite pair."""
    from facesel.select.facing import end_facing
    from facesel.select.link_turns import turn_cost
    from facesel.select.linking import LinkRule

    for count in (2, 3):
        rule = LinkRule(turn_distance=1e9, turn_count=count)
        c = counts.setdefault(count, {"fragments": 0, "ends": 0, "starts": 0, "one": 0, "two": 0, "unknown": 0})
        for e, _ in fragments:
            c["fragments"] += 1
            tail = [b for _, b, _ in list(e.tail)[-rule.window:]]
            head = [b for _, b, _ in e.head[:rule.window]]
            c["ends"] += end_facing(tail, list(e.marks_tail)[-rule.window:], count) is not None
            c["starts"] += end_facing(head, list(e.marks_head)[:rule.window], count) is not None
        for a, pa in fragments:
            for b, pb in fragments:
                if b is a:
                    continue
                # the turn link's own limits (time, profiles, sizes, colours, no cue) but the distance;
                # nobody near is not asked (no other tracks given)
                apart = turn_cost(rule, a, b, [])
                if apart is None:
                    continue
                who = "unknown" if pa is None or pb is None else "one" if pa == pb else "two"
                c[who] += 1
                print(f"  [{label}] turn_count {count}: frames {a.first_frame}-{a.last_frame} -> {b.first_frame}-"
                      f"{b.last_frame}, {dict(one='one person', two='two people', unknown='owners unknown')[who]}, "
                      f"heads {apart:.2f} box sides apart, "
                      f"gap {b.first_time - a.last_time:.2f} s", flush=True)


def crowds_of_family(family: str, group, layouts: int, counts: dict) -> None:
    """The crossing and occluded tiled crowds of one family, recorded and replayed by the default."""
    from facesel.detect import make_detector
    from facesel.eval import crowds
    from facesel.eval.crowds_crossing import crossing_crowd
    from facesel.eval.crowds_replay import keep_fragments, record, replay
    from facesel.select.faceness import FacenessRule
    from facesel.select.finalise import DOSE_FACE_FLOOR, Finaliser
    from facesel.selector import default_scorer

    detector, scorer = make_detector(max_side=1280), default_scorer()
    tile, columns, frames = 240, 3, 150
    _, inside = crowds.tile_locator((tile * 3 // 4, tile), columns)
    runs = []
    for layout in range(layouts):
        crowd, truth = crossing_crowd(group, 200, layout=layout)
        runs.append((f"{family} crossing walk {layout}", record(crowd, detector, scorer, 25.0, locate=truth.person_at,
                                                                keep_static=True)))
    tiles = [crowds.read_tile(p, frames, skip=10) for p in group]
    runs.append((f"{family} tiled", record(crowds.compose(tiles, columns, tile, True, 40, 1.5), detector, scorer, 25.0,
                                           inside, keep_static=True)))
    for label, rec in runs:
        fin = Finaliser.for_scorer(scorer, 0.25, faceness=FacenessRule(min_quality=DOSE_FACE_FLOOR, suppress_static=False))
        kept = keep_fragments(fin)
        replay(rec, fin)

        def owner(track_id):
            ks = rec.tiles_of.get(int(track_id))
            return next(iter(ks)) if ks and len(ks) == 1 else None
        exposure([(e, owner(t)) for t, e in kept.items() if e.count], label, counts.setdefault(("crowds", family), {}))


def shared_videos(only, max_frames: int, counts: dict) -> None:
    """Every shared video (``only``: these names), recorded as ``motion_gap_shared.py`` records it
    and replayed by the default; owners unknown (every pair printed, to be looked at)."""
    import itertools

    from crowds_shared import fps_of, videos
    from facesel.config import PipelineConfig
    from facesel.data import data_root
    from facesel.eval.crowds_replay import keep_fragments, record, replay
    from facesel.select.finalise import Finaliser
    from facesel.selector import default_detector, default_scorer
    from facesel.video import open_source

    scorer, detector = default_scorer(), default_detector()
    for path, _ in videos(data_root()):
        if only and path.name not in only:
            continue
        config = PipelineConfig(min_face_size=8.0 if path.name == "img" else 16.0, second_pass=False)
        frames = [f for f, _ in itertools.islice(open_source(path), max_frames)]
        rec = record(frames, detector, scorer, fps_of(path), None, min_face_size=config.min_face_size, second_pass=False)
        fin = Finaliser.for_config(config, scorer)
        kept = keep_fragments(fin)
        replay(rec, fin)
        name = "otb_girl" if path.name == "img" else path.name
        exposure([(e, None) for e in kept.values() if e.count], name, counts.setdefault(("shared", name), {}))


def main(argv=None) -> int:
    import cv2
    from facesel.data import data_root
    from facesel.eval import crowds

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", nargs="*", default=None)
    parser.add_argument("--layouts", type=int, default=6)
    parser.add_argument("--edge", nargs="*", default=[], help="motion_gap_loso.py --edge-e2e caches")
    parser.add_argument("--no-crowds", action="store_true")
    parser.add_argument("--shared", nargs="*", default=None, help="the shared videos (these names; none given: all 40)")
    parser.add_argument("--max-frames", type=int, default=600)
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    counts: dict = {}
    for path in args.edge:
        for family, rows in pickle.loads(Path(path).read_bytes()).items():
            for name, r in rows:
                exposure([(e, p if p >= 0 else None) for e, p in r["fragments"]], f"{family} edge {name}",
                         counts.setdefault(("edge", family), {}))
    if args.shared is not None:
        shared_videos(args.shared, args.max_frames, counts)
    if not args.no_crowds:
        fams = crowds.families(data_root())
        if args.families:
            fams = {k: v for k, v in fams.items() if k in args.families}
        for fam, group in crowds.crowds_of(fams, 6):
            crowds_of_family(fam, group, args.layouts, counts)
    print("\n[material, family] turn_count: fragments, ending in a profile, starting in one, opposite-profile "
          "pairs within 3 s of one person / of two people / owners unknown")
    for (kind, family), per in sorted(counts.items()):
        for count, c in sorted(per.items()):
            print(f"  {kind:6s} {family:14s} {count}: {c['fragments']} fragments, {c['ends']} end / {c['starts']} start "
                  f"in profile, opposite pairs {c['one']} one person / {c['two']} two people / {c['unknown']} owners unknown")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
