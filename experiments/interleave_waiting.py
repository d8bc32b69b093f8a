"""The chain-level interleave merge (``Finaliser(interleave_waiting=True)``) against the default,
per source family (docs/persons.md, "Two tracks on one person at once").

    nice -n 5 python experiments/interleave_waiting.py --crowds [--layouts 1] [--json PATH]
    nice -n 5 python experiments/interleave_waiting.py --shared [--max-frames 600] [--json PATH]

``--crowds``: per family of :mod:`facesel.eval.crowds`, its crossing crowds (``--layouts`` walks per
group), its occluded tiled crowds and its same-place replacements, made in memory as
``crowds_covered_loso.py`` makes them, each recorded once and replayed through the default
finaliser with the setting off and on; per family and kind: persons, snapshots, wrong joins
(snapshots whose fragments lie on two people; replacement pairs joined). ``--shared``: every
shared video (``crowds_shared.py``'s list, OTB Girl at ``min_face_size`` 8), snapshots and links
off and on. The Laplacian scorer throughout (tracks and links do not depend on the pick; it keeps
the recording cheap). The setting was fixed before measuring; nothing is chosen here: it may
become the default only if it adds no wrong join in any family.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import cv2

SETTINGS = {"off": False, "on": True}


def finaliser(scorer, waiting: bool, crowd: bool):
    """The default finaliser with the setting; on the crowds as ``crowds_covered_loso.py`` (no static drop)."""
    from facesel.select.faceness import FacenessRule
    from facesel.select.finalise import DOSE_FACE_FLOOR, Finaliser

    if crowd:
        faceness = FacenessRule(min_quality=DOSE_FACE_FLOOR, suppress_static=False)
        return Finaliser.for_scorer(scorer, 0.25, faceness=faceness, interleave_waiting=waiting)
    return Finaliser.for_scorer(scorer, interleave_waiting=waiting)


def crowd_rows(layouts: int, detector, scorer) -> list[dict]:
    """One row per (family, setting): {kind: [persons, snapshots, wrong joins]}, replacements [pairs, joined]."""
    from facesel.data import data_root
    from facesel.eval import crowds
    from facesel.eval.crowds_crossing import crossing_crowd
    from facesel.eval.crowds_replay import crowd_figures, record, replay, spans

    tile, columns, frames, first, second = 240, 3, 150, 45, 60
    tile_of, inside = crowds.tile_locator((tile * 3 // 4, tile), columns)
    fams = crowds.families(data_root())
    groups = crowds.crowds_of(fams, 6)
    rows = []
    for family in fams:
        recordings = []  # (kind, recording, truth)
        for group in (g for f, g in groups if f == family):
            for layout in range(layouts):
                crowd, truth = crossing_crowd(group, 200, layout=layout)
                recordings.append(("crossing", record(crowd, detector, scorer, 25.0, locate=truth.person_at,
                                                      keep_static=True), truth))
            tiles = [crowds.read_tile(p, frames, skip=10) for p in group]
            crowd = crowds.compose(tiles, columns, tile, True, 40, 1.5)
            recordings.append(("occluded", record(crowd, detector, scorer, 25.0, inside, keep_static=True), None))
        for a, b in itertools.pairwise(fams[family]):
            fa, fb = crowds.read_tile(a, first, skip=10), crowds.read_tile(b, second, skip=10)
            pair = crowds.replacement([cv2.resize(f, (640, 480)) for f in fa], [cv2.resize(f, (640, 480)) for f in fb], detector)
            recordings.append(("replacement", record(pair, detector, scorer, 25.0, None, keep_static=True), None))
        for name, waiting in SETTINGS.items():
            row = {"family": family, "setting": name, "crossing": [0, 0, 0], "occluded": [0, 0, 0], "replacements": [0, 0]}
            for kind, rec, truth in recordings:
                fin = finaliser(scorer, waiting, crowd=True)
                delivered = replay(rec, fin)
                if kind == "replacement":
                    row["replacements"][0] += 1
                    row["replacements"][1] += spans(delivered, first)
                    continue
                figs = crowd_figures(rec, delivered, fin.links, tile_of, truth=truth)
                row[kind] = [a + b for a, b in zip(row[kind], (len(figs["tracked_tiles"]), figs["snapshots"],
                                                                figs["wrong_joins"]))]
            print(json.dumps(row), flush=True)
            rows.append(row)
    return rows


def shared_rows(max_frames: int, detector, scorer) -> list[dict]:
    """One row per shared video: snapshots and links with the setting off and on."""
    from crowds_shared import fps_of, videos
    from facesel.data import data_root
    from facesel.eval.crowds_replay import record, replay
    from facesel.video import open_source

    rows = []
    for path, _people in videos(data_root()):
        frames = [frame for frame, _ in open_source(path, max_frames=max_frames)]
        min_face = 8.0 if path.name == "img" else 16.0
        rec = record(frames, detector, scorer, fps_of(path), None, min_face_size=min_face)
        row = {"video": path.name if path.name != "img" else "otb_girl"}
        for name, waiting in SETTINGS.items():
            fin = finaliser(scorer, waiting, crowd=False)
            row[name] = len(replay(rec, fin))
            row[f"{name}_links"] = [list(p) for p in fin.links]
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def main(argv=None) -> int:
    from facesel.detect import make_detector
    from facesel.scoring import LaplacianVarianceScorer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crowds", action="store_true")
    parser.add_argument("--shared", action="store_true")
    parser.add_argument("--layouts", type=int, default=1, help="walks per group of clips in the crossing crowds")
    parser.add_argument("--max-frames", type=int, default=600)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    detector, scorer = make_detector(max_side=1280), LaplacianVarianceScorer()
    rows = []
    if args.shared:
        rows += shared_rows(args.max_frames, detector, scorer)
    if args.crowds:
        rows += crowd_rows(args.layouts, detector, scorer)
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
