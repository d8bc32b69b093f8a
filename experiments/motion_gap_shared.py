"""Motion through the gap on every shared video (docs/persons.md "Motion through the gap"): each
video's first ``--max-frames`` frames run once through the default Selector (as
``experiments/crowds_shared.py`` runs them: one thread, OTB Girl at 8 px faces), its finaliser's
inputs recorded (:mod:`facesel.eval.crowds_replay`, in memory), then replayed under the default
re-link rule and each of ``motion_gap_loso.CANDIDATES``: snapshots and links per rule.

    python experiments/motion_gap_shared.py [--set motion|reach] [--only NAME ...] [--json /tmp/cross15-shared.json]

The gate only refuses links, so a video where the default links nothing cannot change; every
video is run anyway. No pixel is written (the JSON holds counts and track ids).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parent))
from crowds_shared import fps_of, videos  # noqa: E402
import motion_gap_loso as mgl  # noqa: E402
from motion_gap_loso import Probe  # noqa: E402


def main(argv=None) -> int:
    from facesel import Selector
    from facesel.config import PipelineConfig
    from facesel.data import data_root
    from facesel.eval.crowds_replay import Recorder, replay
    from facesel.select.finalise import Finaliser
    from facesel.selector import default_detector, default_scorer
    from facesel.video import open_source

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--max-frames", type=int, default=600)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--why", action="store_true", help="print the motion facts of every link the default makes that "
                                                          "a candidate refuses")
    parser.add_argument("--set", choices=list(mgl.SETS), default="motion", help="which candidate family")
    args = parser.parse_args(argv)
    mgl.use(args.set)
    cv2.setNumThreads(1)
    scorer, detector = default_scorer(), default_detector()
    settings = {**mgl.CANDIDATES, **mgl.REFERENCE}
    rules = {k: mgl.sll.link_of(v) for k, v in settings.items()}
    rows = []
    for path, people in videos(data_root()):
        if args.only and path.name not in args.only:
            continue
        fps = fps_of(path)
        config = PipelineConfig(min_face_size=8.0 if path.name == "img" else 16.0, second_pass=False)
        recorder = Recorder()
        selector = Selector(detector, scorer, config=config, threads=1, fps=fps, post_close=[recorder])
        for k, (frame, _) in enumerate(open_source(path)):
            if k >= args.max_frames:
                break
            selector.feed(frame)
        selector.flush()
        row = {"video": path.name if path.name != "img" else "otb_girl", "people": people}
        for name, rule in rules.items():
            finaliser = Finaliser.for_config(config, scorer)
            finaliser.link = Probe(rule, rules, row["video"]) if args.why and name == "off" else rule
            finaliser.grace_seconds = max(1.0, rule.max_gap_seconds)
            for key, value in mgl.sll.finaliser_of(settings[name]).items():  # boolean Finaliser settings
                setattr(finaliser, key, value)
            row[name] = len(replay(recorder.recording, finaliser))
            row[f"{name}_links"] = [list(p) for p in finaliser.links]
        changed = [n for n in rules if row[n] != row["off"] or row[f"{n}_links"] != row["off_links"]]
        rows.append(row)
        print(json.dumps({"video": row["video"], "off": row["off"], "links": len(row["off_links"]),
                          **{n: row[n] for n in changed}}), flush=True)
    if args.json is not None:
        args.json.write_text(json.dumps(rows))  # counts and track ids only
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
