"""Tried and dropped: region squares on the full frame's stride grid, at the full-frame scale.

    python experiments/region_grid.py [--every 5] [--pipeline]

The sparse mode finds each tracked face again in a square around its last box; the pick rule reads
the detector's confidence and landmarks, and a face found in a square gets other values than the
same face found on the whole frame (docs/architecture.md). The idea tried here: put each square's
corners on the grid of YuNet's coarsest stride (32 shrunk pixels from the frame's corner) and
search it at the full-frame detection's scale, so that the network sees the face's pixels exactly
as on the whole frame.

Part 1 (always): on every ``--every``-th arcade frame, every full-frame face is searched again in
a square around its own box with four placements (on the grid or anywhere; full-frame scale or
face shrunk to 64 px, the default), and the found face's confidence and landmarks are compared
with the full-frame detection's.

Part 2 (``--pipeline``): the default pipeline (one thread, no finaliser) on each shared video with
the square placement patched in, against the exhaustive run: tracks and the share of kept crops in
their exhaustive track's top 10 % (own score / exhaustive score of the kept frame).

The default stays: part 2 showed the gain of part 1 on the arcade video but losses on the selfie
(large faces: squares at the full-frame scale cost 1.8x the detection time) and on the Intel head
pose clip, and the changed region detections flipped the finaliser's verdict on the arcade's man
seen from behind (docs/architecture.md, "Regions on the stride grid").
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np

GRID = 32
"""YuNet's coarsest stride: the full frame is padded to multiples of it."""


def squares(frame, boxes, *, base: float, on_grid: bool, face_px: float, scale: float = 2.5, min_px: int = 128):
    """[(region (h, w, 3) uint8 BGR, corner (2,), back-scale (2,)) or None] for each box: the sparse mode's
    placement (``on_grid=False``: corners anywhere, truncated to pixels) or corners on the stride grid."""
    from facesel.detect.schedule import cut_square

    h, w = frame.shape[:2]
    out = []
    for box in np.asarray(boxes, np.float32).reshape(-1, 4):
        side = float(max(box[2] - box[0], box[3] - box[1]))
        if not np.isfinite(side) or side <= 0:
            out.append(None)
            continue
        shrink = min(base, face_px / side) if face_px > 0 else base
        half = max(scale * side, min_px / shrink) / 2.0
        cx, cy = (box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0
        if on_grid:
            step = GRID / shrink
            x1, y1 = (max(0, int(round(np.floor((c - half) / step) * step))) for c in (cx, cy))
            x2 = min(w, int(round(np.ceil((cx + half) / step) * step)))
            y2 = min(h, int(round(np.ceil((cy + half) / step) * step)))
        else:
            x1, y1 = int(max(0, cx - half)), int(max(0, cy - half))
            x2, y2 = int(min(w, cx + half)), int(min(h, cy + half))
        if x2 - x1 < 8 or y2 - y1 < 8:
            out.append(None)  # outside the frame: not searched, as in search_regions
            continue
        out.append(cut_square(frame, x1, y1, x2, y2, shrink))
    return out


def patched_search(on_grid: bool, face_px: float):
    """A stand-in for :func:`facesel.detect.schedule.search_regions` with this placement (its own
    ``face_px``; the one the caller passes is ignored)."""
    from facesel.boxes import pairwise_iou
    from facesel.detect.schedule import _nms
    from facesel.types import Detections

    def search(detector, frame, boxes, *, scale, face_px=None, min_px, base_shrink=1.0, nms_iou=0.5):
        boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
        placed = squares(frame, boxes, base=base_shrink, on_grid=on_grid, face_px=placement_px, scale=scale,
                         min_px=min_px)
        searched = [(box, p) for box, p in zip(boxes, placed) if p is not None]
        found = detector.detect_many([p[0] for _, p in searched]) if searched else []
        keep_boxes, keep_scores, keep_marks = [], [], []
        for (box, (_, corner, back)), dets in zip(searched, found):
            if len(dets) == 0:
                continue
            mapped = dets.boxes * np.tile(back, 2) + np.tile(corner, 2)
            overlap = pairwise_iou(mapped, box[None])[:, 0]
            k = int(np.argmax(overlap))
            if overlap[k] > 0:
                keep_boxes.append(mapped[k])
                keep_scores.append(dets.scores[k])
                keep_marks.append(dets.landmarks[k] * back + corner)
        if not keep_boxes:
            return Detections.empty(with_landmarks=True)
        merged = Detections(np.stack(keep_boxes), np.array(keep_scores, np.float32), np.stack(keep_marks))
        return merged[_nms(merged.boxes, merged.scores, nms_iou)]  # as search_regions: one face, one box

    placement_px = face_px
    return search


def consistency(every: int) -> None:
    from facesel.boxes import pairwise_iou
    from facesel.data import data_root
    from facesel.selector import default_detector
    from facesel.video import open_source

    detector = default_detector()
    video = data_root() / "videos" / "arcade_walkers_1080p.mp4"
    frames = [f for i, (f, _) in enumerate(open_source(video)) if i % every == 0]
    from facesel.detect.schedule import search_regions

    placements = {"anywhere, face 64 px (the default)": search_regions, "grid, face 64 px": patched_search(True, 64.0),
                  "anywhere, full-frame scale": patched_search(False, 0.0),
                  "grid, full-frame scale": patched_search(True, 0.0)}
    print(f"Part 1: {len(frames)} arcade frames (every {every}th)")
    print("| placement | faces found again | confidence diff mean / p90 | landmark error / side mean / p90 | CPU ms a square |")
    print("|---|---|---|---|---|")
    for name, search in placements.items():
        conf, marks, cpu, total = [], [], 0.0, 0
        for frame in frames:
            full = detector.detect(frame)
            total += len(full)
            if len(full) == 0:
                continue
            base = min(1.0, detector.max_side / max(frame.shape[:2]))
            start = time.process_time()
            found = search(detector, frame, full.boxes, scale=2.5, face_px=64.0, min_px=128, base_shrink=base)
            cpu += time.process_time() - start
            if len(found) == 0:
                continue
            iou = pairwise_iou(full.boxes, found.boxes)
            for i in range(len(full)):
                j = int(np.argmax(iou[i]))
                if iou[i, j] >= 0.5:
                    side = float(max(full.boxes[i, 2] - full.boxes[i, 0], full.boxes[i, 3] - full.boxes[i, 1]))
                    conf.append(abs(float(found.scores[j] - full.scores[i])))
                    marks.append(float(np.linalg.norm(found.landmarks[j] - full.landmarks[i], axis=1).mean()) / side)
        print(f"| {name} | {len(conf)} / {total} | {np.mean(conf):.4f} / {np.percentile(conf, 90):.4f} | "
              f"{100 * np.mean(marks):.2f} % / {100 * np.percentile(marks, 90):.2f} % | {1000 * cpu / max(1, total):.2f} |")


def pipeline() -> None:
    import facesel.detect.stage as stage
    from facesel import Selector
    from facesel.data import data_root
    from facesel.select.agreement import agreement
    from facesel.selector import default_detector, default_scorer
    from facesel.video import open_source

    original = stage.search_regions
    print("\nPart 2: default pipeline (1 thread, no finaliser) against the exhaustive run")
    print("| video | placement | CPU ms/frame | tracks | kept crop in top 10 % (own / by frame) |")
    print("|---|---|---|---|---|")
    detector, scorer = default_detector(), default_scorer()
    for name in ("arcade_walkers_1080p.mp4", "intel_face_demographics_walking.gif", "intel_head_pose_female.gif",
                 "selfie_motion_blur_portrait.mp4", "otb_girl/img"):
        frames = list(open_source(data_root() / "videos" / name))

        def run(**settings):
            selector = Selector(detector, scorer, threads=1, finalise=False, **settings)
            cpu = time.process_time()
            out = [r for f, t in frames for r in selector.feed(f, t).closed] + selector.flush()
            return out, 1000 * (time.process_time() - cpu) / len(frames)

        reference, _ = run(mode="exhaustive")
        for label, patch in (("default", None), ("grid, full-frame scale", patched_search(True, 0.0))):
            stage.search_regions = original if patch is None else patch
            try:
                results, ms = run()
            finally:
                stage.search_regions = original
            a, b = agreement(results, reference), agreement(results, reference, by="frame")
            print(f"| {name} | {label} | {ms:.1f} | {a.tracks} / {a.reference_tracks} | "
                  f"{100 * a.share_within(0.1):.0f} % / {100 * b.share_within(0.1):.0f} % |")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, default=5, help="part 1 uses every N-th arcade frame")
    parser.add_argument("--pipeline", action="store_true", help="also run part 2 (a few minutes)")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    consistency(args.every)
    if args.pipeline:
        pipeline()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
