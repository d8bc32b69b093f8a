"""The chain-level interleave merge (``Finaliser(interleave_waiting=True)``) against the default,
per source family (docs/persons.md, "Two tracks on one person at once"); with ``--setting
await_predecessor`` the order of release (``Finaliser(await_predecessor=True)``, session 16,
docs/persons.md "A bouncing child's reach"), judged the same way.

    nice -n 5 python experiments/interleave_waiting.py --crowds [--layouts 1] [--json PATH] [--setting NAME]
    nice -n 5 python experiments/interleave_waiting.py --shared [--max-frames 600] [--json PATH] [--setting NAME]

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
import json
from pathlib import Path

import cv2
from crowd_material import family_recordings, replay_figures

SETTINGS = {"off": False, "on": True}
SETTING_NAMES = ("interleave_waiting", "await_predecessor")
"""The boolean :class:`facesel.select.finalise.Finaliser` settings this script judges (``--setting``)."""
SETTING = "interleave_waiting"


def finaliser(scorer, waiting: bool, crowd: bool):
    """The default finaliser with the setting (:data:`SETTING`) off or on; on the crowds as
    ``crowds_covered_loso.py`` (no static drop)."""
    from facesel.select.faceness import FacenessRule
    from facesel.select.finalise import DOSE_FACE_FLOOR, Finaliser

    if crowd:
        faceness = FacenessRule(min_quality=DOSE_FACE_FLOOR, suppress_static=False)
        return Finaliser.for_scorer(scorer, 0.25, faceness=faceness, **{SETTING: waiting})
    return Finaliser.for_scorer(scorer, **{SETTING: waiting})


def crowd_rows(layouts: int, detector, scorer) -> list[dict]:
    """One row per (family, setting): {kind: [persons, snapshots, wrong joins]}, replacements [pairs, joined]."""
    from facesel.data import data_root
    from facesel.eval import crowds

    fams = crowds.families(data_root())
    groups = crowds.crowds_of(fams, 6)
    rows = []
    for family in fams:
        recordings = family_recordings(family, fams, groups, layouts, detector, scorer)
        for name, waiting in SETTINGS.items():
            row = {"family": family, "setting": name,
                   **replay_figures(recordings, lambda waiting=waiting: finaliser(scorer, waiting, crowd=True))}
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
    parser.add_argument("--setting", choices=SETTING_NAMES, default="interleave_waiting")
    args = parser.parse_args(argv)
    global SETTING
    SETTING = args.setting
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
