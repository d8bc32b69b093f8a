"""Numbers, not pictures, for the sealed snapshots the all-videos audit marks ``suspect``
(non-face, head without a face, or a static box): is each one junk (a logo, text, a background or
dark blob) or a person? (docs/persons.md, "All 40 shared videos: per-video audit and junk").

    nice -n 5 python experiments/audit_shared_suspects.py --rows /tmp/audit40.jsonl [--json OUT] [--only NAME ...]

For every video of ``--rows`` (``experiments/audit_shared.py``'s output) with a suspect snapshot
that no recognisable person claims (a snapshot the matcher links to a person is a face, not junk),
the default Selector is run again the same way (one thread, in
memory; the run must seal the same track ids, checked) and, on the track's 8 sampled frames (the
audit's own sampling), the box's pixels are measured IN MEMORY, nothing written:

- ``grey_mean`` / ``grey_std``: brightness and contrast of the box (``experiments/junk_flatness.py``:
  no held-out face is darker than 39.4 or flatter than 13.4 at its 0.5th percentile);
- ``skin``: share of the box's pixels in the usual skin range of YCrCb (Cr 133-173, Cb 77-127),
  a colour fact, no identity;
- ``pixel_change``: mean absolute grey difference of the box between its first and last sampled
  frame, resized to 32 x 32 (a logo or a blob on a still background stays near 0);
- ``mtcnn_best``: MTCNN's best confidence on the audit's crops (the box with 50 % margin, at least
  120 px high; the audit accepts a face at >= 0.9);
- ``hog_person_margin`` / ``upper_body``: the person-below check's best values over the crops
  (the audit wants >= 0.7 or >= 3 on 2 crops);
- ``edge``: which frame edges the box touches (a head cut by the frame's border);
- ``landmark_layout``: median over the crops of :func:`facesel.select.faceness.landmark_residual`
  of the pipeline detector's five landmarks on the detection overlapping the box (frontal faces
  measure about 0.05-0.15; the finaliser's landmark vote doubts above 0.5).

The video's other sealed snapshots are measured the same way (``suspect`` false): the reference.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np
from audit_shared import run_video
from crowds_shared import videos


def box_pixels(frame: np.ndarray, box) -> np.ndarray | None:
    h, w = frame.shape[:2]
    x1, y1, x2, y2 = np.asarray(box, dtype=np.float64).reshape(4).tolist()
    x1, y1, x2, y2 = max(0, round(x1)), max(0, round(y1)), min(w, round(x2)), min(h, round(y2))
    return frame[y1:y2, x1:x2] if x2 - x1 >= 2 and y2 - y1 >= 2 else None


def landmark_layout(frame: np.ndarray, box, detector) -> float:
    """:func:`facesel.select.faceness.landmark_residual` of the detection on ``frame`` that overlaps
    ``box`` most (IoU >= 0.5); nan when none does or the detector gives no landmarks."""
    from facesel.select.faceness import landmark_residual

    found = detector.detect(frame)
    if not len(found.scores) or found.landmarks is None:
        return float("nan")
    b = np.asarray(box, dtype=np.float64).reshape(4)
    boxes = found.boxes.astype(np.float64)
    inter = (np.clip(np.minimum(boxes[:, 2], b[2]) - np.maximum(boxes[:, 0], b[0]), 0, None)
             * np.clip(np.minimum(boxes[:, 3], b[3]) - np.maximum(boxes[:, 1], b[1]), 0, None))
    union = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    iou = inter / np.maximum(union, 1e-9)
    k = int(np.argmax(iou))
    return landmark_residual(found.landmarks[k]) if iou[k] >= 0.5 else float("nan")


def facts_of_track(frames, record, mtcnn, person_check, width: int, height: int, detector=None) -> dict:
    """The numbers of one sealed track (see the module docstring), from its sampled frames;
    ``detector`` (the pipeline's) for the landmark layout, none for no layout."""
    from facesel.align import margin_crop
    from facesel.eval.snapshots import sample_positions

    indices = record["frame_indices"]
    boxes = np.asarray(record["boxes"], dtype=np.float64).reshape(-1, 4)
    means, stds, skins, greys, mtcnn_best, margins, uppers, layouts = [], [], [], [], 0.0, [], [], []
    for k in sample_positions(len(indices), 8):
        frame, box = frames[int(indices[k])], boxes[k]
        pixels = box_pixels(frame, box)
        if pixels is None:
            continue
        grey = cv2.cvtColor(pixels, cv2.COLOR_BGR2GRAY)
        means.append(float(grey.mean()))
        stds.append(float(grey.std()))
        ycrcb = cv2.cvtColor(pixels, cv2.COLOR_BGR2YCrCb)
        skins.append(float(((ycrcb[..., 1] >= 133) & (ycrcb[..., 1] <= 173) & (ycrcb[..., 2] >= 77)
                            & (ycrcb[..., 2] <= 127)).mean()))
        greys.append(cv2.resize(grey, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float64))
        crop = margin_crop(frame, box, 0.5)
        scale = max(1.0, 120.0 / crop.shape[0])
        found = mtcnn.detect(cv2.resize(crop, None, fx=scale, fy=scale) if scale > 1 else crop)
        if len(found):
            mtcnn_best = max(mtcnn_best, float(found.scores.max()))
        margins.append(person_check.person_margin(frame, box))
        uppers.append(person_check.upper_body_neighbours(frame, box))
        if detector is not None:
            layouts.append(landmark_layout(frame, box, detector))
    x1, y1, x2, y2 = np.median(boxes, axis=0)
    edge = [name for name, touches in (("left", x1 <= 2), ("top", y1 <= 2), ("right", x2 >= width - 2),
                                        ("bottom", y2 >= height - 2)) if touches]
    return {"grey_mean": round(float(np.mean(means)), 1), "grey_std": round(float(np.mean(stds)), 1),
            "skin": round(float(np.mean(skins)), 3),
            "pixel_change": round(float(np.abs(greys[0] - greys[-1]).mean()), 1) if len(greys) > 1 else None,
            "mtcnn_best": round(mtcnn_best, 3), "hog_person_margin": round(float(max(margins)), 2) if margins and np.isfinite(max(margins)) else None,
            "upper_body": int(max(uppers)) if uppers else 0, "edge": edge,
            "landmark_layout": round(float(np.nanmedian(layouts)), 3) if np.isfinite(layouts).any() else None}


def main(argv=None) -> int:
    from facesel.data import data_root
    from facesel.detect import make_detector
    from facesel.eval.head_checks import PersonBelowCheck
    from facesel.plaintext_out import track_record
    from facesel.selector import default_detector, default_scorer
    from facesel.video import open_source

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=Path, nargs="+", required=True, help="experiments/audit_shared.py's rows")
    parser.add_argument("--json", type=Path, default=None, help="write the facts here")
    parser.add_argument("--only", nargs="*", default=None, help="video names (default every video with a suspect)")
    parser.add_argument("--max-frames", type=int, default=600)
    args = parser.parse_args(argv)
    rows = {}
    for path in args.rows:
        for line in path.read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                rows[row["video"]] = row
    cv2.setNumThreads(1)
    detector, scorer = default_detector(), default_scorer()
    mtcnn, person_check = make_detector("mtcnn"), PersonBelowCheck(8)
    out = []
    for path, _ in videos(data_root()):
        name = path.name if path.name != "img" else "otb_girl"
        row = rows.get(name)
        if row is None or (args.only and name not in args.only):
            continue
        # The person the matcher links a snapshot to is a recognisable face: not junk, not asked.
        if not any(s["suspect"] and s["category"] not in ("match", "poor") for s in row["snapshot_facts"]):
            continue
        # Every other snapshot of the same video is measured too: the faces beside the suspects are the reference.
        wanted = {s["track_id"]: s for s in row["snapshot_facts"]}
        capture = cv2.VideoCapture(str(path)) if path.is_file() else None
        fps = (capture.get(cv2.CAP_PROP_FPS) if capture is not None else 0.0) or 25.0
        if capture is not None:
            capture.release()
        frames = [frame for frame, _ in open_source(path, max_frames=args.max_frames)]
        height, width = frames[0].shape[:2]
        results, _, _ = run_video(frames, fps, 8.0 if name == "otb_girl" else 16.0, detector, scorer)
        records = {int(r.track_id): track_record(r) for r in results}
        same = sorted(records) == sorted(s["track_id"] for s in row["snapshot_facts"])
        for tid, fact in wanted.items():
            if tid not in records:
                continue
            entry = {"video": name, "source": row["source"], **{k: fact[k] for k in (
                "track_id", "category", "seen_by", "static_audit", "frames", "box_side_median", "centre_xy",
                "dose_vote", "det_max", "count", "duration_s", "travel_sides", "size_change", "still_fraction",
                "lively_fraction", "suspect")}, **facts_of_track(frames, records[tid], mtcnn, person_check, width, height, detector),
                "same_run": same}
            print(json.dumps(entry), flush=True)
            out.append(entry)
    if args.json is not None:
        args.json.write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
