"""The continuity bridge on the shared videos (docs/prereg_continuity_bridge.md; docs/persons.md
"A patch followed through the gap"): each video's first ``--max-frames`` frames run once, live,
through the default Selector with the follower on at the loosest registered settings (floor 0.6,
3 s), its finaliser's inputs recorded (:mod:`facesel.eval.crowds_replay`, in memory), then
replayed under ``off`` (the default finaliser) and each registered candidate: snapshots, links,
bridge links, and the followers' counts (started, died, expired, matchTemplate calls).

    python experiments/bridge_shared.py [--only NAME ...] [--patch band|head] [--json /tmp/bridge-shared.json]

A follower's path does not depend on the floor (fixed template, best match), so a candidate's
hints are those with smallest match >= its floor and gap within its limit. No pixel is written.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parent))
from crowds_shared import fps_of, videos  # noqa: E402

# name -> (floor, largest gap in seconds) (docs/prereg_continuity_bridge.md); patch from --patch
CANDIDATES = {"b60": (0.6, 2.0), "b70": (0.7, 2.0), "b80": (0.8, 2.0), "b70_3s": (0.7, 3.0)}


def finalisers(config, scorer, patch: str) -> dict:
    """{name: Finaliser}: ``off`` (the default) and each candidate with its bridge."""
    from facesel.select.finalise import Finaliser
    from facesel.track_cues.bridge import BridgeRule

    out = {"off": Finaliser.for_config(config, scorer)}
    for name, (floor, gap) in CANDIDATES.items():
        f = Finaliser.for_config(config, scorer)
        f.bridge = BridgeRule(floor=floor, max_gap_seconds=gap, patch=patch)
        out[name] = f
    return out


def recording_config(config, patch: str):
    """``config`` with the follower on at the loosest registered settings (the recording's)."""
    return config.replace(continuity_bridge=0.6, continuity_bridge_gap=3.0, continuity_bridge_patch=patch)


def main(argv=None) -> int:
    from facesel import Selector
    from facesel.config import PipelineConfig
    from facesel.data import data_root
    from facesel.eval.crowds_replay import Recorder, replay
    from facesel.selector import default_detector, default_scorer
    from facesel.video import open_source

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--max-frames", type=int, default=600)
    parser.add_argument("--patch", choices=("band", "head"), default="band")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    scorer, detector = default_scorer(), default_detector()
    rows = []
    for path, people in videos(data_root()):
        name = path.name if path.name != "img" else "otb_girl"
        if args.only and path.name not in args.only and name not in args.only:
            continue
        fps = fps_of(path)
        config = PipelineConfig(min_face_size=8.0 if path.name == "img" else 16.0, second_pass=False)
        recorder = Recorder()
        selector = Selector(detector, scorer, config=recording_config(config, args.patch), threads=1, fps=fps,
                            post_close=[recorder])
        for k, (frame, _) in enumerate(open_source(path)):
            if k >= args.max_frames:
                break
            selector.feed(frame)
        followers = selector._track.followers
        counts = {"started": followers.started, "died": followers.died, "expired": followers.expired,
                  "steps": followers.steps, "frames": min(k + 1, args.max_frames)}
        selector.flush()
        hints = [(e, *h) for step in recorder.recording.steps if step[0] is not None
                 for e, h in step[0].bridges.items()]
        row = {"video": name, "people": people, "followers": counts, "hints": hints}
        for rule, finaliser in finalisers(config, scorer, args.patch).items():
            row[rule] = len(replay(recorder.recording, finaliser))
            row[f"{rule}_links"] = [list(p) for p in finaliser.links]
            row[f"{rule}_bridged"] = [list(p) for p in finaliser.bridged]
        rows.append(row)
        print(json.dumps({"video": name, "off": row["off"], **{n: row[n] for n in CANDIDATES},
                          "bridged": {n: row[f"{n}_bridged"] for n in CANDIDATES if row[f"{n}_bridged"]},
                          "hints": [[int(h[0]), int(h[1]), round(float(h[2]), 3), round(float(h[3]), 2)] for h in hints],
                          "followers": counts}), flush=True)
    if args.json is not None:
        args.json.write_text(json.dumps(rows, default=float))  # counts and track ids only
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
