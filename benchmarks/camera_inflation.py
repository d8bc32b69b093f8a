"""Why four cameras in one process cost more a frame than one alone (issue 27, session 15).

    python benchmarks/camera_inflation.py [--phases 1 4 1] [--frames 315] [--cv-threads N] [--mallopt BYTES]
        [--video A.mp4 B.mp4] [--drop 0 0.15]
    MALLOC_MMAP_THRESHOLD_=16777216 python benchmarks/camera_inflation.py ...   (glibc tunables: from the environment)

Not a test (not in CI). Each phase runs K cameras' pipelines at once in K threads of this one
process (``burst_costs.measure``: serve's PyAV path with the conversion on take, the load
governor's cap by default, the Selector on one thread, a vault sink), each over the same
``--frames`` frames of the looping video, every frame taken (no pacing, so no drops: the cameras
see the same frames whether one runs or four, unlike serve under load, where a starved camera's
taken frames are further apart and cost more). Per phase, a frame's cost from the camera threads'
own counters (robust to the machine's load): thread CPU ms (decode + take) and minor page faults
(``RUSAGE_THREAD``); and the process's CPU and faults over the phase divided by the frames (every
thread: OpenCV's pool, the FFmpeg and sealing threads), whose difference to the camera threads' is
what other threads spent. Phases ``1 4 1`` give the ratio within one run. ``--drop``: each decoded
frame passed over unseen with that chance (a camera behind), the cost a taken frame then holds the
dropped frames' decoding. Results: docs/performance.md, "Session 15: why four cameras cost more than one".
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))


def run_phase(video: Path, cameras: int, frames: int, settings: dict, skip: int, drop: float = 0.0) -> dict:
    """``cameras`` pipelines at once over ``frames`` taken frames each; costs a taken frame after the
    first ``skip``; ``drop``: the chance that a decoded frame is passed over (``burst_costs.measure``)."""
    from burst_costs import measure

    start = threading.Barrier(cameras + 1)
    results: list = [None] * cameras
    errors: list = []

    def camera(i: int) -> None:
        try:
            results[i] = measure(video, frames, settings, start=start, drop=drop, seed=i)
        except BaseException as error:  # reported below; the barrier is broken so nobody waits forever
            errors.append(error)
            start.abort()

    threads = [threading.Thread(target=camera, args=(i,), name=f"cam{i}") for i in range(cameras)]
    for thread in threads:
        thread.start()
    start.wait()  # every camera's models are loaded: the process counters start here
    cpu0, usage0, wall0 = time.process_time(), resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
    for thread in threads:
        thread.join()
    cpu1, usage1, wall1 = time.process_time(), resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
    if errors:
        raise errors[0]
    kept = [f for frames_of, _ in results for f in frames_of[skip:]]
    every = [f for frames_of, _ in results for f in frames_of]
    n = len(kept)
    return {"cameras": cameras, "frames": n, "drop": drop,
            "decoded_per_taken": round(sum(f["decoded"] for f in kept) / n, 3),
            "cpu_ms": round(sum(f["decode_ms"] + f["take_ms"] for f in kept) / n, 2),
            "decode_ms": round(sum(f["decode_ms"] for f in kept) / n, 2),
            "take_ms": round(sum(f["take_ms"] for f in kept) / n, 2),
            "faults": round(sum(f["faults"] for f in kept) / n, 1),
            "sys_ms": round(sum(f["sys_ms"] for f in kept) / n, 2),
            "waits": round(sum(f["waits"] for f in kept) / n, 1),
            "preempted": round(sum(f["preempted"] for f in kept) / n, 1),
            # every thread, every frame (the first ``skip`` too: the process counters cannot split them)
            "process_cpu_ms": round(1000 * (cpu1 - cpu0) / len(every), 2),
            "process_faults": round((usage1.ru_minflt - usage0.ru_minflt) / len(every), 1),
            "camera_threads_cpu_ms": round(sum(f["decode_ms"] + f["take_ms"] for f in every) / len(every), 2),
            "wall_s": round(wall1 - wall0, 1)}


def set_malloc_thresholds(mmap_threshold: int) -> None:
    """glibc ``mallopt``: blocks of ``mmap_threshold`` bytes or less come from the heap (and the top of
    the heap is trimmed only past twice that), instead of a fresh mapping faulted in page by page."""
    import ctypes

    libc = ctypes.CDLL("libc.so.6")
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    if not libc.mallopt(M_MMAP_THRESHOLD, mmap_threshold) or not libc.mallopt(M_TRIM_THRESHOLD, 2 * mmap_threshold):
        raise OSError("mallopt refused")


def main(argv=None) -> int:
    from capacity import extra_settings
    from facesel.data import data_root_or_exit

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--video", nargs="+", default=["arcade_walkers_1080p.mp4"],
                        help="under the shared data's videos/, or absolute paths; several: each phase runs each in turn")
    parser.add_argument("--phases", type=int, nargs="+", default=[1, 4, 1], help="cameras at once, phase by phase")
    parser.add_argument("--frames", type=int, default=315, help="frames a camera a phase (the file loops)")
    parser.add_argument("--skip", type=int, default=20, help="first frames of each camera left out of the means")
    parser.add_argument("--detect-every", type=int, default=16)
    parser.add_argument("--set", nargs="*", default=["coarse_max_side=640", "fine_every=4"], metavar="KEY=VALUE")
    parser.add_argument("--drop", type=float, nargs="+", default=[0.0],
                        help="chance that a decoded frame is dropped unseen; several: each phase runs each in turn")
    parser.add_argument("--cv-threads", type=int, default=None, help="cv2.setNumThreads (default: OpenCV's own)")
    parser.add_argument("--mallopt", type=int, default=0, metavar="BYTES",
                        help="set glibc's mmap threshold (and trim threshold, twice it) to BYTES first")
    args = parser.parse_args(argv)
    import cv2

    if args.cv_threads is not None:
        cv2.setNumThreads(args.cv_threads)
    if args.mallopt:
        set_malloc_thresholds(args.mallopt)
    videos = [Path(v) if Path(v).is_absolute() else data_root_or_exit() / "videos" / v for v in args.video]
    settings = {"mode": "sparse", "detect_every": args.detect_every, "threads": 1, **extra_settings(args.set)}
    malloc_env = {k: v for k, v in os.environ.items() if k.startswith("MALLOC_") or k.startswith("GLIBC_TUNABLES")}
    print(f"{', '.join(v.name for v in videos)}: {settings}; cv2 threads {cv2.getNumThreads()}; mallopt {args.mallopt or 'no'}; "
          f"env {malloc_env or 'none'}", flush=True)
    for cameras in args.phases:
        for video in videos:
            for drop in args.drop:
                load = os.getloadavg()[0]
                row = run_phase(video, cameras, args.frames, settings, args.skip, drop)
                print(f"  {video.name}, {cameras} camera(s), drop {drop:g}: load {load:.1f}; {row}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
