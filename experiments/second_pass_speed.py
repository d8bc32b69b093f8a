"""What the tracker's second pass costs: the default pipeline on the arcade video with and without
it, alternating, in one run (docs/persons.md, "The second association pass").

    python experiments/second_pass_speed.py [--repeats 3]

As ``experiments/crowds_speed.py``: frames decoded once into memory, a fresh default Selector per
run on one thread, no sinks; each setting with its own default detector (YuNet at 0.3 with the
second pass, 0.6 without); CPU seconds of the process per run (``time.process_time``), the median
of each and their ratio, and the snapshots delivered.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import cv2


def one_run(frames, detector, scorer, second_pass: bool) -> tuple[float, int]:
    from facesel import Selector
    from facesel.config import PipelineConfig

    selector = Selector(detector, scorer, config=PipelineConfig(second_pass=second_pass), threads=1)
    cpu = time.process_time()
    delivered = 0
    for frame, stamp in frames:
        delivered += len(selector.feed(frame, stamp).closed)
    delivered += len(selector.flush())
    return time.process_time() - cpu, delivered


def main(argv=None) -> int:
    from facesel.config import PipelineConfig
    from facesel.data import data_root
    from facesel.selector import default_detector, default_scorer
    from facesel.video import open_source

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    frames = list(open_source(data_root() / "videos" / "arcade_walkers_1080p.mp4"))
    scorer = default_scorer()
    detectors = {name: default_detector(PipelineConfig(second_pass=name == "with")) for name in ("with", "without")}
    one_run(frames[:20], detectors["with"], scorer, True)  # warm-up
    cpu = {name: [] for name in detectors}
    for k in range(args.repeats):
        for name in (("with", "without") if k % 2 == 0 else ("without", "with")):
            seconds, delivered = one_run(frames, detectors[name], scorer, name == "with")
            cpu[name].append(seconds)
            print(f"{name:7s} cpu {seconds:6.2f} s  {delivered} snapshots", flush=True)
    on, off = statistics.median(cpu["with"]), statistics.median(cpu["without"])
    print(f"median CPU s per run: with {on:.2f}, without {off:.2f}; with/without = {on / off:.3f} "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
