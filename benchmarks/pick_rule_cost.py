"""CPU per frame of the default selection rule (``context``, no VAE per crop) against the previous
default (``pick``: one VAE encoder + decoder pass per fully scored crop), on the arcade video, in
one process and one run (issue 22).

    python benchmarks/pick_rule_cost.py            # sparse (default) and exhaustive modes, 3 rounds

The frames are decoded once up front; each round runs the whole Selector (YuNet detection,
tracking, alignment, scoring, the finaliser with its not-a-face vote) once per rule, the rules
alternating so that the machine's load falls on both alike. Reported: CPU seconds per frame of
the process (``time.process_time``; all threads), the ``scoring`` stage's CPU per frame
(``time.thread_time`` inside the stage), the snapshots kept and the fully scored crops, and the
ratio pick / context. Ratios within this run only: the machine is shared.
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np


def run_once(frames, rule: str, mode: str) -> dict:
    from facesel import Selector
    from facesel.config import PipelineConfig
    from facesel.scoring import default_scorer
    from facesel.selector import default_detector
    from facesel.sinks import CallbackSink

    config = PipelineConfig(mode=mode)
    kept: list = []
    selector = Selector(default_detector(config), default_scorer(rule, threads=config.onnx_threads), config=config,
                        clock=time.thread_time, sinks=[CallbackSink(kept.append)])
    selector.detector.detect(np.zeros((64, 64, 3), np.uint8))  # lazy loading is not per-frame cost
    cpu = time.process_time()
    with selector:
        for _ in selector.run(iter(frames)):
            pass
    cpu = time.process_time() - cpu
    n = selector.timings["frames"]
    return {"cpu_per_frame": cpu / n, "scoring_per_frame": selector.timings.get("scoring", 0.0) / n,
            "snapshots": len(kept), "scored": selector.work["scored"],
            "best_frames": sorted((int(r.track_id), int(r.best.frame_index)) for r in kept)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--frames", type=int, default=105)
    parser.add_argument("--modes", nargs="+", default=["sparse", "exhaustive"])
    args = parser.parse_args()
    cv2.setNumThreads(1)
    from facesel.data import data_root
    from facesel.video import open_source

    source = open_source(data_root() / "videos" / "arcade_walkers_1080p.mp4", max_frames=args.frames)
    frames = list(source)
    print(f"arcade: {len(frames)} frames decoded up front")
    for mode in args.modes:
        runs: dict = {"pick": [], "context": []}
        for _ in range(args.rounds):
            for rule in ("pick", "context"):
                runs[rule].append(run_once(frames, rule, mode))
        print(f"\nmode {mode} ({args.rounds} rounds, alternating; median of the rounds)")
        print("| rule | CPU ms per frame (process) | scoring stage ms per frame | snapshots | fully scored crops |")
        print("|---|---|---|---|---|")
        med = {}
        for rule, rs in runs.items():
            med[rule] = (float(np.median([r["cpu_per_frame"] for r in rs])), float(np.median([r["scoring_per_frame"] for r in rs])))
            print(f"| {rule} | {1e3 * med[rule][0]:.1f} | {1e3 * med[rule][1]:.2f} | {rs[0]['snapshots']} | {rs[0]['scored']} |")
        print(f"pick / context: process CPU per frame {med['pick'][0] / med['context'][0]:.2f}x, scoring stage "
              f"{med['pick'][1] / max(med['context'][1], 1e-9):.0f}x; CPU saved per frame by context: "
              f"{1e3 * (med['pick'][0] - med['context'][0]):.1f} ms ({100 * (1 - med['context'][0] / med['pick'][0]):.0f} %)")
        a, b = set(runs["pick"][0]["best_frames"]), set(runs["context"][0]["best_frames"])
        print(f"snapshots with the same (track id, best frame) in both: {len(a & b)} (pick kept {len(a)}, context {len(b)})")


if __name__ == "__main__":
    main()
