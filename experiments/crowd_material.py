"""The crowd material of one source family, recorded once (docs/persons.md, "Crossing crowds"):
its crossing crowds, its occluded tiled crowds and its same-place replacements (and, when asked,
its crowds walking at the camera: "A crowd walking at the camera"), made in memory
(never written) and run through the Selector with a recorder (:mod:`facesel.eval.crowds_replay`).
Shared by ``crowds_covered_loso.py`` and ``interleave_waiting.py``."""

from __future__ import annotations

import itertools
import json

import cv2

TILE, COLUMNS, FRAMES, FIRST, SECOND = 240, 3, 150, 45, 60  # tiled crowds; replacements' two parts (frames)


def family_recordings(family: str, fams: dict, groups: list, layouts: int, detector, scorer, approach: int = 0) -> list:
    """[(kind, recording, truth)] of ``family``: kind ``"crossing"`` (``layouts`` walks of each group
    of its clips, truth the walkers' :class:`facesel.eval.crowds_crossing.Truth`), ``"occluded"``
    (the grey bar, truth None) and ``"replacement"`` (each pair of consecutive clips, truth None);
    with ``approach`` > 0 also kind ``"approach"``: ``approach`` walks of each group at the camera
    (:mod:`facesel.eval.crowds_approach`).
    ``fams``: :func:`facesel.eval.crowds.families`; ``groups``: :func:`facesel.eval.crowds.crowds_of`."""
    from facesel.eval import crowds
    from facesel.eval.crowds_approach import approach_crowd
    from facesel.eval.crowds_crossing import crossing_crowd
    from facesel.eval.crowds_replay import record

    _, inside = crowds.tile_locator((TILE * 3 // 4, TILE), COLUMNS)
    recordings = []
    for fam, group in groups:
        if fam != family:
            continue
        for layout in range(layouts):
            crowd, truth = crossing_crowd(group, 200, layout=layout)
            recordings.append(("crossing", record(crowd, detector, scorer, 25.0, locate=truth.person_at,
                                                  keep_static=True), truth))
        for layout in range(approach):
            crowd, truth = approach_crowd(group, 200, layout=layout)
            recordings.append(("approach", record(crowd, detector, scorer, 25.0, locate=truth.person_at,
                                                  keep_static=True), truth))
        tiles = [crowds.read_tile(p, FRAMES, skip=10) for p in group]
        crowd = crowds.compose(tiles, COLUMNS, TILE, True, 40, 1.5)
        recordings.append(("occluded", record(crowd, detector, scorer, 25.0, inside, keep_static=True), None))
    for a, b in itertools.pairwise(fams[family]):
        fa, fb = crowds.read_tile(a, FIRST, skip=10), crowds.read_tile(b, SECOND, skip=10)
        pair = crowds.replacement([cv2.resize(f, (640, 480)) for f in fa], [cv2.resize(f, (640, 480)) for f in fb], detector)
        recordings.append(("replacement", record(pair, detector, scorer, 25.0, None, keep_static=True), None))
    return recordings


def replay_figures(recordings: list, make_finaliser) -> dict:
    """Each of ``recordings`` (:func:`family_recordings`) replayed through a fresh
    ``make_finaliser()``: {"crossing" / "occluded" / "approach": [persons, snapshots, wrong joins,
    persons without a snapshot], "replacements": [pairs, pairs joined]} summed over them."""
    from facesel.eval import crowds
    from facesel.eval.crowds_replay import crowd_figures, replay, spans

    tile_of, _ = crowds.tile_locator((TILE * 3 // 4, TILE), COLUMNS)
    row = {"crossing": [0, 0, 0, 0], "occluded": [0, 0, 0, 0], "approach": [0, 0, 0, 0], "replacements": [0, 0]}
    for kind, rec, truth in recordings:
        fin = make_finaliser()
        delivered = replay(rec, fin)
        if kind == "replacement":
            row["replacements"][0] += 1
            row["replacements"][1] += spans(delivered, FIRST)
            continue
        figs = crowd_figures(rec, delivered, fin.links, tile_of, truth=truth)
        without = len(set(figs["tracked_tiles"]) - set(figs["per_tile"]))
        row[kind] = [a + b for a, b in zip(row[kind], (len(figs["tracked_tiles"]), figs["snapshots"], figs["wrong_joins"],
                                                        without))]
    return row


def crowd_finaliser(scorer, link):
    """The default finaliser of the crowd experiments (static rule off, as the crowds run) with
    the re-link rule ``link``."""
    from facesel.select.faceness import FacenessRule
    from facesel.select.finalise import DOSE_FACE_FLOOR, Finaliser

    faceness = FacenessRule(min_quality=DOSE_FACE_FLOOR, suppress_static=False)
    return Finaliser.for_scorer(scorer, 0.25, faceness=faceness, link=link)


def replay_table(fams: dict, groups: list, layouts: int, detector, scorer, candidates: dict, make_link,
                 approach: int = 0) -> dict:
    """{(candidate name, family): :func:`replay_figures` row}: each family recorded once
    (:func:`family_recordings`) and replayed through :func:`crowd_finaliser` with
    ``make_link(candidates[name])`` for every candidate; each row printed as it is made."""
    table: dict = {}
    for family in fams:
        recordings = family_recordings(family, fams, groups, layouts, detector, scorer, approach=approach)
        for name, setting in candidates.items():
            row = table[(name, family)] = replay_figures(
                recordings, lambda setting=setting: crowd_finaliser(scorer, make_link(setting)))
            print(json.dumps({"rule": name, "family": family, **row}), flush=True)
    return table


def crowd_setup() -> tuple:
    """(detector, scorer, families, groups) of the crowd experiments: the detector at
    ``max_side`` 1280, the default scorer, :func:`facesel.eval.crowds.families` of the shared
    data and their crowds of 6 (:func:`facesel.eval.crowds.crowds_of`); OpenCV on one thread."""
    from facesel.data import data_root
    from facesel.detect import make_detector
    from facesel.eval import crowds
    from facesel.selector import default_scorer

    cv2.setNumThreads(1)
    fams = crowds.families(data_root())
    return make_detector(max_side=1280), default_scorer(), fams, crowds.crowds_of(fams, 6)
