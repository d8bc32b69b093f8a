"""End-to-end throughput of the Selector on the arcade video, per detector and frame size.

    nice -n 10 python benchmarks/pipeline_throughput.py                      # 30 frames, all detectors
    python benchmarks/pipeline_throughput.py --frames 105 --detectors yunet --sizes 1920x1080

For each detector (default settings, one thread, the exhaustive mode unless ``--mode sparse``) and frame size, the arcade video's frames are
decoded and resized once, then fed to a Selector; frames per second count ``Selector.feed`` only
(decoding is reported apart, since a camera hands over decoded frames). Two rates: wall-clock,
and CPU time of the process (``time.process_time``; every stage runs on one thread), which is what
the pipeline would reach on an idle core of this machine and is steadier when the machine is
shared. The time split is the Selector's own per-stage timers (``Selector.timings``, in CPU
time). The Selectors take turns frame by frame, so that load on a shared machine hits every
configuration alike.

The scorer is the package default (``facesel.selector.default_scorer``) unless ``--scorer
laplacian``; when the default cannot be built (e.g. its model is not installed), the table says
which scorer ran.
"""

from __future__ import annotations

import argparse
import sys
import time

import cv2
import numpy as np
from facesel import Selector
from facesel.data import data_root
from facesel.detect import DETECTOR_NAMES, make_detector
from facesel.scoring import LaplacianVarianceScorer
from facesel.selector import default_scorer
from facesel.timing import PIPELINE_STAGES

SIZES = ((1920, 1080), (1280, 720))


def load_frames(size: tuple[int, int], count: int) -> tuple[list[np.ndarray], float]:
    """The first ``count`` arcade frames resized to ``size`` (w, h), and seconds per frame spent
    decoding (at 1080p, the video's own size)."""
    root = data_root()
    if root is None:
        raise FileNotFoundError("real data not found: set FACESEL_DATA")
    capture = cv2.VideoCapture(str(root / "videos" / "arcade_walkers_1080p.mp4"))
    frames, start = [], time.perf_counter()
    raw = []
    while len(raw) < count:
        ok, frame = capture.read()
        if not ok:
            break
        raw.append(frame)
    decode = (time.perf_counter() - start) / max(1, len(raw))
    capture.release()
    for frame in raw:
        if frame.shape[1::-1] != tuple(size):
            frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
        frames.append(frame)
    return frames, decode


def make_scorer(name: str):
    if name == "laplacian":
        return LaplacianVarianceScorer(), "LaplacianVarianceScorer"
    try:
        scorer = default_scorer()
    except (FileNotFoundError, RuntimeError) as err:
        print(f"default scorer unavailable ({err}); using LaplacianVarianceScorer", file=sys.stderr)
        return LaplacianVarianceScorer(), "LaplacianVarianceScorer (default unavailable)"
    return scorer, type(scorer).__name__


def measure(configs: dict, frames_by_size: dict) -> dict:
    """Feed every configuration its frames, taking turns frame by frame.

    Parameters
    ----------
    configs : {(detector_name, size): Selector}
    frames_by_size : {size: list of (h, w, 3) uint8}

    Returns
    -------
    {(detector_name, size): {"fps" (wall), "cpu_fps", "ms_per_frame" (CPU), "timings", "tracks"}}
    """
    results = {key: [] for key in configs}
    wall = dict.fromkeys(configs, 0.0)
    count = min(len(f) for f in frames_by_size.values())
    for k in range(count):
        for (name, size), selector in configs.items():
            start = time.perf_counter()
            results[(name, size)] += selector.feed(frames_by_size[size][k], k / 25.0).closed
            wall[(name, size)] += time.perf_counter() - start
    out = {}
    for key, selector in configs.items():
        start = time.perf_counter()
        results[key] += selector.flush()
        wall[key] += time.perf_counter() - start
        timings = selector.timings  # CPU seconds (the Selectors run with clock=time.process_time)
        frames = max(1, timings["frames"])
        out[key] = {
            "fps": frames / wall[key] if wall[key] > 0 else float("nan"),
            "cpu_fps": frames / timings["total"] if timings["total"] > 0 else float("nan"),
            "ms_per_frame": 1000.0 * timings["total"] / frames,
            "timings": timings,
            "tracks": len(results[key]),
        }
    return out


def table(measured: dict, decode_ms: float, scorer_name: str) -> str:
    stages = [s for s in PIPELINE_STAGES if s != "sinks"]
    head = "| detector | frame size | frames/s (wall) | frames/s (CPU) | CPU ms/frame | " + " | ".join(f"{s} %" for s in stages) + " | tracks |"
    lines = [f"scorer: {scorer_name}; decoding 1080p H.264 adds {decode_ms:.1f} ms/frame (not counted)", "",
             head, "|" + "---|" * (head.count("|") - 1)]
    for (name, size), m in measured.items():
        t = m["timings"]
        split = " | ".join(f"{100.0 * t[s] / t['total']:.1f}" for s in stages)
        lines.append(f"| {name} | {size[0]}x{size[1]} | {m['fps']:.2f} | {m['cpu_fps']:.2f} | {m['ms_per_frame']:.0f} | {split} | {m['tracks']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=30, help="arcade frames per configuration (max 105)")
    parser.add_argument("--detectors", nargs="+", default=list(DETECTOR_NAMES), choices=DETECTOR_NAMES)
    parser.add_argument("--sizes", nargs="+", default=[f"{w}x{h}" for w, h in SIZES], help="WxH")
    parser.add_argument("--scorer", choices=("default", "laplacian"), default="default")
    parser.add_argument("--mode", choices=("exhaustive", "sparse"), default="exhaustive",
                        help="exhaustive (every frame detected, every face scored; the per-detector yardstick) "
                        "or the sparse default")
    parser.add_argument("--max-side", type=int, default=None,
                        help="detector setting: detect on frames shrunk to this longer side")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    sizes = [tuple(int(v) for v in s.lower().split("x")) for s in args.sizes]
    frames_by_size, decode = {}, 0.0
    for size in sizes:
        frames_by_size[size], decode = load_frames(size, args.frames)
    scorer, scorer_name = make_scorer(args.scorer)
    configs = {}
    for name in args.detectors:
        detector = make_detector(name) if args.max_side is None else make_detector(name, max_side=args.max_side)
        for size in sizes:
            detector.detect(frames_by_size[size][0])  # warm-up: lazy model loading is not throughput
            configs[(name, size)] = Selector(detector, scorer, mode=args.mode, threads=1, clock=time.process_time)
    print(table(measure(configs, frames_by_size), 1000.0 * decode, scorer_name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
