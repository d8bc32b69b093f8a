"""What the consensus pick (``consensus_finalists``, facesel.scoring.consensus) costs on the arcade
video, in one process and one run: CPU per frame and the crops held, off (0) against on (16).

    python benchmarks/consensus_cost.py            # sparse (default) and exhaustive modes, 3 rounds

The frames are decoded once up front; each round runs the whole Selector (YuNet detection,
tracking, alignment, the default context rule, the finaliser with its not-a-face vote) once per
setting, the settings alternating so that the machine's load falls on both alike. Reported: CPU
seconds per frame of the process (``time.process_time``; all threads; median of the rounds), the
crops aligned and fully scored, the most observations held at once and the bytes of their colour
and grey crops (sampled after every frame), and how many kept (track, frame) pairs the two share.
Ratios within this run only: the machine is shared.
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np


def held_bytes(selector) -> int:
    """Bytes of the colour and grey crops the store holds now; a crop that is a view of a larger
    array (a frame's stack of aligned crops) keeps all of it alive, so that array is counted, once."""
    total, seen = 0, set()
    for obs in selector._score.store._observations.values():
        for image in (obs.crop, obs.grey):
            if image is None:
                continue
            owner = image if image.base is None else image.base
            if id(owner) not in seen:
                seen.add(id(owner))
                total += owner.nbytes
    return total


def run_once(frames, consensus: int, mode: str) -> dict:
    from facesel import Selector
    from facesel.config import PipelineConfig
    from facesel.scoring import default_scorer
    from facesel.selector import default_detector
    from facesel.sinks import CallbackSink

    config = PipelineConfig(mode=mode, consensus_finalists=consensus, threads=1)
    kept: list = []
    selector = Selector(default_detector(config), default_scorer(threads=config.onnx_threads), config=config,
                        sinks=[CallbackSink(kept.append)])
    selector.detector.detect(np.zeros((64, 64, 3), np.uint8))  # lazy loading is not per-frame cost
    held, held_b = 0, 0
    cpu = time.process_time()
    with selector:
        for _ in selector.run(iter(frames)):
            held = max(held, selector.held_observations)
            held_b = max(held_b, held_bytes(selector))
    cpu = time.process_time() - cpu
    n = selector.timings["frames"]
    return {"cpu_per_frame": cpu / n, "snapshots": len(kept), "aligned": selector.work["aligned"],
            "scored": selector.work["scored"], "held": held, "held_bytes": held_b,
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

    frames = list(open_source(data_root() / "videos" / "arcade_walkers_1080p.mp4", max_frames=args.frames))
    print(f"arcade: {len(frames)} frames decoded up front")
    for mode in args.modes:
        runs: dict = {0: [], 16: []}
        for _ in range(args.rounds):
            for consensus, rounds in runs.items():
                rounds.append(run_once(frames, consensus, mode))
        print(f"\nmode {mode} ({args.rounds} rounds, alternating; median of the rounds)")
        print("| consensus_finalists | CPU ms per frame (process) | aligned | fully scored | most crops held | "
              "their bytes (KiB) | snapshots |")
        print("|---|---|---|---|---|---|---|")
        med = {}
        for consensus, rs in runs.items():
            med[consensus] = float(np.median([r["cpu_per_frame"] for r in rs]))
            r = rs[0]
            print(f"| {consensus} | {1e3 * med[consensus]:.1f} | {r['aligned']} | {r['scored']} | {r['held']} | "
                  f"{r['held_bytes'] / 1024:.0f} | {r['snapshots']} |")
        print(f"16 / 0: process CPU per frame {med[16] / med[0]:.3f}x")
        a, b = set(runs[0][0]["best_frames"]), set(runs[16][0]["best_frames"])
        print(f"snapshots with the same (track id, best frame) in both: {len(a & b)} (0 kept {len(a)}, 16 kept {len(b)})")


if __name__ == "__main__":
    main()
