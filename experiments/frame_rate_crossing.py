"""Tracker limits in frames against limits in seconds, on the crossing crowds at lower frame rates
(docs/persons.md, "Other frame rates and sizes (session 17)").

    python experiments/frame_rate_crossing.py [--steps 2 3] [--layouts 6] [--json /tmp/rob17-fr.json]

Each crossing crowd of ``facesel eval crowds --crossing`` (made at 25 fps, in memory, never
written) is fed at every ``step``-th frame (``fps / step``: a camera at 12.5 or 8.3 fps) under
each candidate of :data:`CANDIDATES`, pre-registered before any was run. Every candidate keeps the
shipped value in frames at 25 fps and above (the rate the defaults were measured at: the crowds,
the arcade, OTB Girl), so native runs cannot change; below it the limit holds its length in
seconds. Printed per candidate and step: snapshots, tile persons, wrong joins (tracker-level: one
track's boxes on two walkers; link-level: fragments of two walkers re-linked).
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import cv2

from facesel.frame_rate import REFERENCE_FPS, held_frames  # limits held in seconds below 25 fps


CANDIDATES = {
    "default": lambda fps: {},
    "max_age": lambda fps: {"max_age": held_frames(10, fps, 1)},
    "min_hits": lambda fps: {"min_hits": held_frames(3, fps, 2)},
    "detect_every": lambda fps: {"detect_every": held_frames(4, fps, 1)},
    "all": lambda fps: {"max_age": held_frames(10, fps, 1), "min_hits": held_frames(3, fps, 2),
                        "detect_every": held_frames(4, fps, 1)},
    # added after the five above were run (not pre-registered): the tracker's two limits without
    # the detection schedule, which the serve governor also steps (facesel.serve.scheduler)
    "tracker": lambda fps: {"max_age": held_frames(10, fps, 1), "min_hits": held_frames(3, fps, 2)},
    # what ships (facesel.frame_rate): "tracker" with max_age never below detect_every (4), added
    # after a 6 fps shared clip lost its second person at max_age 2
    "shipped": lambda fps: {"limits_in_seconds": True},
}


def _kinds(joins: list) -> tuple[int, int]:
    """(tracker-level, link-level) wrong joins of :func:`facesel.eval.crowds.run_crowd`'s ``joins``."""
    tracker = sum(1 for j in joins if len(j) == 1 or any(len(t) > 1 for t in j.values()))
    return tracker, len(joins) - tracker


def main(argv=None) -> int:
    from facesel.data import data_root
    from facesel.eval.crowds import crowds_of, families, run_crowd
    from facesel.eval.crowds_crossing import crossing_crowd
    from facesel.selector import default_detector, default_scorer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs="+", default=[2, 3])
    parser.add_argument("--layouts", type=int, default=6)
    parser.add_argument("--only", nargs="*", default=None, help="candidates to run (default all)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    detector, scorer = default_detector(), default_scorer()
    names = args.only or list(CANDIDATES)
    totals = {(n, s): {"snapshots": 0, "persons": 0, "tracker_joins": 0, "link_joins": 0}
              for n in names for s in args.steps}
    fams = families(data_root())
    for layout, (family, clips) in itertools.product(range(args.layouts), crowds_of(fams, 6)):
        crowd, truth = crossing_crowd(clips, 200, layout=layout)
        for step, name in itertools.product(args.steps, names):
            # the candidate's limits as given (the Selector's own holding, facesel.frame_rate, off)
            settings = {"keep_static": True, "second_pass": False, "limits_in_seconds": False,
                        **CANDIDATES[name](REFERENCE_FPS / step)}
            out = run_crowd(crowd, (1, 1), 1, REFERENCE_FPS, detector, scorer, truth=truth, step=step, **settings)
            tracker, link = _kinds(out["joins"])
            row = totals[(name, step)]
            row["snapshots"] += out["snapshots"]
            row["persons"] += len(out["tracked_tiles"])
            row["tracker_joins"] += tracker
            row["link_joins"] += link
        print(f"{family} walk {layout} done", flush=True)
    for (name, step), row in totals.items():
        print(f"step {step} {name:13s} {row['snapshots']} snapshots / {row['persons']} persons = "
              f"{row['snapshots'] / max(1, row['persons']):.2f}; wrong joins {row['tracker_joins'] + row['link_joins']} "
              f"(tracker {row['tracker_joins']}, link {row['link_joins']})")
    if args.json is not None:
        args.json.write_text(json.dumps([{"candidate": n, "step": s, **r} for (n, s), r in totals.items()]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
