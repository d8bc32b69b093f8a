"""What the detector and the tracker saw in the gaps between one person's fragments on the selfie and
OTB Girl (docs/persons.md "A head turned away and back").

    python experiments/turn_gaps.py [--cases selfie otb] [--frames 60-100 ...]

Per frame of the given ranges (default: each case's gaps with a few frames either side): the
detections the default Selector's tracker got (:mod:`facesel.eval.crowds_replay`'s recording:
track id, confidence, box); YuNet's best box on the whole frame at confidence 0.05 (the selfie
shrunk to 1280 pixels as the pipeline's full-frame detection; OTB Girl's 128 x 96 frames also at
2x and 3x), OTB Girl's the one overlapping her ground-truth head box most, the children on the bed's
every box of 0.3 or more; which way that face
looks (:func:`facesel.select.facing.facing`: -1 a profile to the image's left, +1 to its right, 0
not a profile) with its eyes' span and the nose's place across the box; OTB Girl's ground-truth
head centre. Nothing is written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from relink_cases import read  # noqa: E402  (this folder: the cases' frames as relink_cases reads them)

GAPS = {"selfie": [(60, 100)], "otb": [(84, 112), (166, 244)], "bed": [(137, 158)]}
FPS = {"selfie": 17.6, "otb": 25.0, "bed": 30.0}


def ground_truth(root: Path) -> np.ndarray:
    """(N, 4) float32 x1, y1, x2, y2: OTB Girl's ground-truth head boxes."""
    path = root / "videos/otb_girl/groundtruth_rect.txt"
    first = path.read_text().splitlines()[0]
    xywh = np.loadtxt(path, delimiter="," if "," in first else None)
    return np.c_[xywh[:, :2], xywh[:, :2] + xywh[:, 2:]].astype(np.float32)


def tracked(frames, case: str) -> dict:
    """Per frame index, the (track id, confidence, box) the default Selector's tracker got."""
    from facesel import Selector
    from facesel.config import PipelineConfig
    from facesel.eval.crowds_replay import Recorder
    from facesel.selector import default_detector, default_scorer

    recorder = Recorder()
    config = PipelineConfig(min_face_size=8.0 if case == "otb" else 16.0, second_pass=False)
    selector = Selector(default_detector(), default_scorer(), config=config, threads=1, fps=FPS[case],
                        post_close=[recorder])
    for frame in frames:
        selector.feed(frame)
    selector.flush()
    seen = {}
    for packet, _, _ in recorder.recording.steps:
        if packet is not None:
            d = packet.detections
            seen[packet.index] = [(int(t), round(float(s), 2), b.astype(int).tolist())
                                  for t, s, b in zip(packet.update.track_ids, d.scores, d.boxes)]
    return seen


def looks(box, marks) -> str:
    """Which way the face looks, with the eyes' span and the nose's place as shares of the box width."""
    from facesel.select.facing import facing

    width = float(box[2] - box[0])
    span = abs(float(marks[1][0] - marks[0][0])) / width
    across = float(marks[2][0] - box[0]) / width
    return f"looks {facing(box, marks):+d} (eyes {span:.2f}, nose {across:.2f})"


def main(argv=None) -> int:
    from facesel.boxes import pairwise_iou
    from facesel.data import data_root
    from facesel.detect.yunet import YuNetDetector

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=list(GAPS), choices=list(GAPS))
    parser.add_argument("--frames", nargs="*", default=None, help="ranges A-B instead of the cases' gaps")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    root = data_root()
    detector = YuNetDetector(min_confidence=0.05)
    for case in args.cases:
        frames, _, _ = read(root, case)
        truth = ground_truth(root) if case == "otb" else None
        got = tracked(frames, case)
        ranges = [tuple(map(int, r.split("-"))) for r in args.frames] if args.frames else GAPS[case]
        print(f"\n== {case}")
        for lo, hi in ranges:
            for i in range(lo, min(hi, len(frames) - 1) + 1):
                frame, line = frames[i], [f"{i:4d} tracker {got.get(i, [])}"]
                if truth is not None:
                    line.append(f"head centre x {float(truth[i, 0] + truth[i, 2]) / 2:.0f}")
                for scale in ((1, 2, 3) if case == "otb" else (1,)):
                    if case != "otb":  # the pipeline's full-frame detection: the longer side shrunk to 1280
                        back = max(1.0, max(frame.shape[:2]) / 1280.0)
                        image = cv2.resize(frame, None, fx=1 / back, fy=1 / back, interpolation=cv2.INTER_AREA)
                    else:
                        back = 1.0 / scale
                        image = frame if scale == 1 else cv2.resize(frame, None, fx=scale, fy=scale,
                                                                  interpolation=cv2.INTER_LINEAR)
                    found = detector.detect(image)
                    if len(found.boxes) == 0:
                        line.append(f"{scale}x -")
                        continue
                    boxes, marks = found.boxes * back, found.landmarks * back
                    if case == "bed":  # two children, no ground truth: every box of 0.3 or more
                        line += [f"{found.scores[k]:.2f} {boxes[k].astype(int).tolist()} {looks(boxes[k], marks[k])}"
                                 for k in np.flatnonzero(found.scores >= 0.3)]
                        continue
                    k = int(np.argmax(pairwise_iou(truth[i:i + 1], boxes)[0])) if truth is not None \
                        else int(np.argmax(found.scores))
                    line.append(f"{scale}x {found.scores[k]:.2f} {boxes[k].astype(int).tolist()} {looks(boxes[k], marks[k])}")
                print("  ".join(line), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
