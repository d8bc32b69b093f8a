"""YuNet's CPU time a frame with glibc's default heap settings and with the freed memory kept
(:mod:`facesel.detect.heap`), each in its own child process since the setting is per process.

    python benchmarks/detector_heap.py [--frames 24] [--repeats 2] [--width 1280]

Prints CPU ms per 1280x720 (by default) arcade frame, one OpenMP thread, for each setting and
repeat, alternating the settings so that a change in machine load hits both.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time


def child(keep: bool, frames: int, width: int) -> dict:
    import cv2

    from facesel.data import data_root
    from facesel.detect.yunet import YuNetDetector
    from facesel.video import open_source

    detector = YuNetDetector(max_side=width, keep_freed_memory=keep)
    images = [f for f, _ in open_source(data_root() / "videos" / "arcade_walkers_1080p.mp4", max_frames=frames)]
    cv2.setNumThreads(1)
    detector.detect(images[0])  # first call: library loading is not per-frame cost
    start = time.process_time()
    for image in images:
        detector.detect(image)
    return {"cpu_ms": 1000.0 * (time.process_time() - start) / len(images)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--width", type=int, default=1280, help="detection max_side")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child == "keep", args.frames, args.width)))
        return 0
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    print(f"YuNet at max_side {args.width}, {args.frames} arcade frames, 1 thread; "
          f"load average {os.getloadavg()[0]:.1f}")
    for repeat in range(args.repeats):
        for mode in ("default", "keep"):
            out = subprocess.run([sys.executable, __file__, "--child", mode, "--frames", str(args.frames),
                                  "--width", str(args.width)], check=True, capture_output=True, text=True, env=env)
            ms = json.loads(out.stdout.strip().splitlines()[-1])["cpu_ms"]
            label = "glibc defaults" if mode == "default" else "freed memory kept"
            print(f"repeat {repeat + 1}: {label:18s} {ms:6.1f} CPU ms a frame")
    return 0


if __name__ == "__main__":
    sys.exit(main())
