"""Does the eye-openness measure see blinks? A descriptive check on frames labelled by eye (session 15).

``docs/eval/tracks/eye_labels.csv`` lists 202 frames of 14 single-person clips of the shared data
(talking heads, expression drivers, a webcam clip, two sign-language clips), each labelled by a
person looking at the eye strip alone, blind to the measures (the frames shown were a shuffled mix
of each clip's lowest frames by a measure and random frames): ``O`` open, ``H`` half-closed or
one eye closed, ``C`` closed, ``X`` a hand over the eyes, ``?`` too small or blurred to tell.
Set 1 (5 clips) was labelled first and the measure ``vedge`` chosen on it among three
(``hedge``, ``dark``, ``vedge``; :mod:`eye_openness`); set 2 (9 other clips) was labelled after
that choice, so it is the check the choice did not see.

For each clip the script detects faces on every frame (YuNet, the largest face; no tracker: one
person per clip), computes :func:`eye_openness.eye_measures` and divides by the clip's median
(within-track use divides by the track's), then prints per set and measure the AUROC of "open
above closed" (and above closed or half-closed), the medians per label, and how many frames of
each label a gate at 0.6, 0.75 and 0.9 of the median would drop.

Run: ``nice -n 5 python experiments/eye_openness_blinks.py`` (a few minutes; nothing is written).
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from facesel.data import data_root

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eye_openness import MEASURES, eye_measures, eye_strip  # noqa: E402

LABELS = Path(__file__).resolve().parents[1] / "docs" / "eval" / "tracks" / "eye_labels.csv"
GATES = (0.6, 0.75, 0.9)


def clip_measures(path: Path) -> dict[int, np.ndarray]:
    """{frame index: (3,) measures over the clip's median} for the largest face of every frame with one."""
    from facesel.detect.factory import make_detector
    from facesel.video import open_source

    detector = make_detector("yunet", max_side=1280)
    raw = {}
    for index, (frame, _stamp) in enumerate(open_source(path)):
        d = detector.detect(frame)
        if len(d) == 0 or d.landmarks is None:
            continue
        k = int(np.argmax((d.boxes[:, 2] - d.boxes[:, 0]) * (d.boxes[:, 3] - d.boxes[:, 1])))
        raw[index] = eye_measures(eye_strip(frame, d.landmarks[k][:2]))
    median = np.nanmedian(np.array(list(raw.values())), axis=0)
    return {f: v / median for f, v in raw.items()}


def auroc(high: list, low: list) -> float:
    """P(a value from ``high`` exceeds one from ``low``), ties counting one half."""
    h, l = np.asarray(high, float)[:, None], np.asarray(low, float)[None, :]
    return float(((h > l).sum() + 0.5 * (h == l).sum()) / (h.size * l.size)) if h.size and l.size else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", type=Path, default=LABELS)
    args = ap.parse_args()
    with open(args.labels, newline="") as fh:
        rows = list(csv.DictReader(fh))
    measures = {clip: clip_measures(data_root() / "videos" / "more" / clip) for clip in sorted({r["clip"] for r in rows})}
    for s in sorted({r["set"] for r in rows}):
        by_label = defaultdict(list)
        for r in rows:
            if r["set"] == s:
                by_label[r["label"]].append(measures[r["clip"]][int(r["frame"])])
        counts = ", ".join(f"{k} {len(v)}" for k, v in sorted(by_label.items()))
        print(f"== set {s}: {len({r['clip'] for r in rows if r['set'] == s})} clips; labels {counts}")
        for m, name in enumerate(MEASURES):
            val = {k: np.array([x[m] for x in v]) for k, v in by_label.items()}
            o, c, h = val.get("O", []), val.get("C", []), val.get("H", [])
            med = "  ".join(f"{k} {np.median(v):.2f}" for k, v in sorted(val.items()) if k != "?")
            print(f"  {name:<6} AUROC open>closed {auroc(o, c):.3f}  open>closed|half {auroc(o, np.r_[c, h]):.3f}  median {med}")
            for g in GATES:
                drop = "  ".join(f"{k} {int((v < g).sum())}/{len(v)}" for k, v in sorted(val.items()) if k != "?")
                print(f"         below {g:.2f} x the clip's median: {drop}")


if __name__ == "__main__":
    main()
