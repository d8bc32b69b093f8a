"""The detector comparison behind facesel's default detector (docs/detectors.md).

    nice -n 10 python benchmarks/detector_table.py            # prints Markdown, updates docs/detectors.md
    python benchmarks/detector_table.py --no-write            # prints only

Measures, on the shared real videos (FACESEL_DATA), for MTCNN, YuNet and Haar with default
settings and one thread each:

* recall on OTB Girl (500 frames, 128x96, one annotated face box per frame);
* agreement on the arcade video (every 4th frame, resized to 1280x720): faces per frame, the share
  of a detector's faces that another detector also finds, and its recall of the faces that both
  other detectors agree on;
* milliseconds per frame at 1280x720 and 640x360 (median over arcade frames; detectors take turns
  frame by frame so that load on a shared machine hits them alike).

Matching rule (used everywhere): two boxes show the same face when each box's centre lies inside
the other. Detectors draw boxes of different shapes (MTCNN tall, Haar square and tight, the OTB
ground truth a head box), so a fixed IoU threshold would punish a convention, not a miss; IoU >= 0.5
recall on OTB is reported alongside.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from facesel.boxes import pairwise_iou as iou
from facesel.data import data_root
from facesel.detectors import make_detector

DETECTORS = ("mtcnn", "yunet", "haar")
DOC = Path(__file__).resolve().parents[1] / "docs" / "detectors.md"
START, END = "<!-- detector-table:start -->", "<!-- detector-table:end -->"


def same_face(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) bool: box a[i] and box b[j] (xyxy) contain each other's centre."""
    ca = (a[:, :2] + a[:, 2:]) / 2
    cb = (b[:, :2] + b[:, 2:]) / 2
    a_in_b = np.all((ca[:, None] >= b[None, :, :2]) & (ca[:, None] <= b[None, :, 2:]), axis=2)
    b_in_a = np.all((cb[None, :] >= a[:, None, :2]) & (cb[None, :] <= a[:, None, 2:]), axis=2)
    return a_in_b & b_in_a




def read_video(path: Path, step: int = 1, size: tuple[int, int] | None = None) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    frames, index = [], 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        if index % step == 0:
            frames.append(frame if size is None else cv2.resize(frame, size, interpolation=cv2.INTER_AREA))
        index += 1
    cap.release()
    if not frames:
        raise FileNotFoundError(f"no frames read from {path}")
    return frames


def otb_recall(root: Path, detectors: dict) -> dict:
    """Per detector: recall (centre rule and IoU >= 0.5) and extra detections per frame on OTB Girl."""
    folder = root / "videos" / "otb_girl"
    # OTB files separate the four numbers by tabs, spaces or commas, depending on the sequence.
    lines = (folder / "groundtruth_rect.txt").read_text().splitlines()
    truth = np.array([[float(v) for v in re.split(r"[,\s]+", line.strip())] for line in lines if line.strip()])
    boxes = np.concatenate([truth[:, :2], truth[:, :2] + truth[:, 2:]], axis=1)
    stats = {name: {"centre": 0, "iou": 0, "extra": 0} for name in detectors}
    for i, gt in enumerate(boxes):
        frame = cv2.imread(str(folder / "img" / f"{i + 1:04d}.jpg"))
        for name, det in detectors.items():
            found = det.detect(frame).boxes
            if len(found) == 0:
                continue
            hit = same_face(found, gt[None])[:, 0]
            stats[name]["centre"] += bool(hit.any())
            stats[name]["iou"] += bool((iou(found, gt[None])[:, 0] >= 0.5).any())
            stats[name]["extra"] += int((~hit).sum())
    for s in stats.values():
        s["frames"] = len(boxes)
    return stats


def arcade_agreement(frames: list[np.ndarray], detectors: dict) -> dict:
    names = list(detectors)
    found = {name: [detectors[name].detect(f).boxes for f in frames] for name in names}
    out = {}
    for name in names:
        others = [o for o in names if o != name]
        counts = [len(b) for b in found[name]]
        confirmed, total, unconfirmed_small = 0, 0, 0
        consensus_hit, consensus_total = 0, 0
        pair = {}
        for other in others:
            matched = sum(int(same_face(a, b).any(axis=1).sum()) for a, b in zip(found[name], found[other]) if len(a) and len(b))
            pair[other] = matched / max(1, sum(counts))
        for i in range(len(frames)):
            mine = found[name][i]
            if len(mine):
                seen = np.zeros(len(mine), bool)
                for other in others:
                    if len(found[other][i]):
                        seen |= same_face(mine, found[other][i]).any(axis=1)
                confirmed += int(seen.sum())
                total += len(mine)
                sides = np.max(mine[:, 2:] - mine[:, :2], axis=1)
                # Below 24 pixels the others cannot confirm by construction (MTCNN searches from
                # 20, Haar from 24): such boxes are small faces or false alarms, not disagreement.
                unconfirmed_small += int(np.sum(~seen & (sides < 24)))
            a, b = (found[o][i] for o in others)
            if len(a) and len(b):
                agreed = a[same_face(a, b).any(axis=1)]  # faces both other detectors find
                consensus_total += len(agreed)
                if len(mine) and len(agreed):
                    consensus_hit += int(same_face(agreed, mine).any(axis=1).sum())
        out[name] = {
            "per_frame": float(np.mean(counts)),
            "max": int(np.max(counts)),
            "confirmed": confirmed / max(1, total),
            "unconfirmed_small": unconfirmed_small / max(1, total - confirmed),
            "consensus_recall": consensus_hit / max(1, consensus_total),
            "consensus_total": consensus_total,
            "pair": pair,
        }
    return out


def timing(frames: list[np.ndarray], detectors: dict, size: tuple[int, int]) -> tuple[dict, dict]:
    """Median wall-clock and thread-CPU milliseconds per frame. With one thread the work runs on
    the calling thread, so its CPU time is what the detector costs even on a busy machine, while
    wall time also counts the waits for a core."""
    resized = [cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames]
    wall = {name: [] for name in detectors}
    cpu = {name: [] for name in detectors}
    for det in detectors.values():  # warm-up: sessions, caches
        det.detect(resized[0])
    for frame in resized:
        for name, det in detectors.items():
            start, start_cpu = time.perf_counter(), time.thread_time()
            det.detect(frame)
            cpu[name].append(1000 * (time.thread_time() - start_cpu))
            wall[name].append(1000 * (time.perf_counter() - start))
    return (
        {name: float(np.median(t)) for name, t in wall.items()},
        {name: float(np.median(t)) for name, t in cpu.items()},
    )


def max_side_rows(frames_1080: list[np.ndarray]) -> str:
    """YuNet on full 1080p frames: CPU ms and faces found per ``max_side`` setting."""
    lines = [
        "| YuNet on 1920x1080, max_side | ms / frame, CPU (wall) | faces / frame | faces also found at full size |",
        "|---|---|---|---|",
    ]
    full = None
    for max_side in (None, 1280, 960, 640):
        det = make_detector("yunet", threads=1, max_side=max_side)
        det.detect(frames_1080[0])
        cpu, wall, found = [], [], []
        for frame in frames_1080:
            start, start_cpu = time.perf_counter(), time.thread_time()
            found.append(det.detect(frame).boxes)
            cpu.append(1000 * (time.thread_time() - start_cpu))
            wall.append(1000 * (time.perf_counter() - start))
        if full is None:
            full = found
        kept = sum(int(same_face(b, f).any(axis=1).sum()) for b, f in zip(found, full) if len(b) and len(f))
        total = sum(len(b) for b in found)
        lines.append(
            f"| {max_side or 'None (full size)'} | {np.median(cpu):.0f} ({np.median(wall):.0f}) "
            f"| {total / len(found):.2f} | {kept / max(1, total):.0%} |"
        )
    return "\n".join(lines)


def render(otb: dict, arcade: dict, ms_720: tuple, ms_360: tuple, n_arcade: int, n_timing: int) -> str:
    lines = [
        "| detector | OTB Girl recall (centre rule) | OTB Girl recall (IoU >= 0.5) | OTB extra boxes / frame "
        "| arcade faces / frame (max) | arcade: share confirmed by another detector (unconfirmed < 24 px) "
        "| arcade: recall of faces both others find | ms / frame 1280x720, CPU (wall) "
        "| ms / frame 640x360, CPU (wall) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name in otb:
        o, a = otb[name], arcade[name]
        lines.append(
            f"| {name} | {o['centre'] / o['frames']:.1%} | {o['iou'] / o['frames']:.1%} | {o['extra'] / o['frames']:.3f} "
            f"| {a['per_frame']:.2f} ({a['max']}) | {a['confirmed']:.1%} ({a['unconfirmed_small']:.0%}) "
            f"| {a['consensus_recall']:.1%} of {a['consensus_total']} "
            f"| {ms_720[1][name]:.0f} ({ms_720[0][name]:.0f}) | {ms_360[1][name]:.0f} ({ms_360[0][name]:.0f}) |"
        )
    lines.append("")
    lines.append("Pairwise agreement on the arcade frames (share of the row detector's faces that the column detector also finds):")
    lines.append("")
    names = list(arcade)
    lines.append("| | " + " | ".join(names) + " |")
    lines.append("|---" * (len(names) + 1) + "|")
    for name in names:
        cells = ["-" if other == name else f"{arcade[name]['pair'][other]:.1%}" for other in names]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(
        f"OTB Girl: {otb[names[0]]['frames']} frames, 128x96. Arcade: {n_arcade} frames (every 4th), 1280x720. "
        f"Timing: median over {n_timing} arcade frames, one thread, detectors interleaved; CPU = the calling "
        "thread's CPU time (robust to a busy machine), wall = elapsed time."
    )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true", help="print the table without updating docs/detectors.md")
    parser.add_argument("--timing-frames", type=int, default=8, help="arcade frames per timing size (default 8)")
    args = parser.parse_args(argv)
    root = data_root()
    if root is None:
        raise SystemExit("shared data not found: set FACESEL_DATA")
    cv2.setNumThreads(1)
    detectors = {name: make_detector(name, threads=1) if name != "haar" else make_detector(name) for name in DETECTORS}
    t0 = time.perf_counter()
    otb = otb_recall(root, detectors)
    t1 = time.perf_counter()
    arcade_frames = read_video(root / "videos" / "arcade_walkers_1080p.mp4", step=4, size=(1280, 720))
    arcade = arcade_agreement(arcade_frames, detectors)
    t2 = time.perf_counter()
    timing_frames = arcade_frames[:: max(1, len(arcade_frames) // args.timing_frames)][: args.timing_frames]
    ms_720 = timing(timing_frames, detectors, (1280, 720))
    ms_360 = timing(timing_frames, detectors, (640, 360))
    t3 = time.perf_counter()
    table = render(otb, arcade, ms_720, ms_360, len(arcade_frames), len(timing_frames))
    full_frames = read_video(root / "videos" / "arcade_walkers_1080p.mp4", step=13)[: args.timing_frames]
    table += "\n\n" + max_side_rows(full_frames)
    table += f"\n\nmax_side: median over {len(full_frames)} full-size arcade frames (every 13th), one thread."
    t4 = time.perf_counter()
    print(table)
    print(
        f"\n(run time: OTB {t1 - t0:.0f} s, arcade {t2 - t1:.0f} s, timing {t3 - t2:.0f} s, max_side {t4 - t3:.0f} s)",
        file=sys.stderr,
    )
    if not args.no_write:
        text = DOC.read_text() if DOC.exists() else f"# Face detectors\n\n{START}\n{END}\n"
        if START not in text or END not in text:
            text += f"\n{START}\n{END}\n"
        head, rest = text.split(START, 1)
        _, tail = rest.split(END, 1)
        DOC.parent.mkdir(parents=True, exist_ok=True)
        DOC.write_text(f"{head}{START}\n{table}\n{END}{tail}")
        print(f"updated {DOC}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
