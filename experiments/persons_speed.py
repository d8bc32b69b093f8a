"""What the track finaliser costs: the default pipeline on the arcade video with and without it,
in one run of this script (docs/persons.md).

    python experiments/persons_speed.py [--repeats 3] [--setting finalise|switch_cues|both]

The video is decoded once into memory, so decoding is not timed; each run feeds every frame to a
fresh default :class:`facesel.Selector` (sparse detection, screened scoring, the shipped scorer)
on one thread (``threads=1``) with no sinks, with the setting on and off in alternation: ``finalise`` (the track finaliser), ``switch_cues``
(the tracker's switch cues, issue 23; the finaliser on in both), or ``both`` (the two together
against neither).
Reported: CPU seconds of the process per run (``time.process_time``, steadier than wall time on a
shared machine), the median of each setting and their ratio, and the snapshots delivered.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import cv2


def one_run(frames, detector, scorer, on: bool, setting: str = "finalise") -> tuple[float, float, int]:
    """(CPU seconds, wall seconds, results delivered) of one pass over ``frames``."""
    from facesel import Selector

    settings = {"finalise": {"finalise": on}, "switch_cues": {"switch_cues": on},
                "both": {"finalise": on, "switch_cues": on}}[setting]
    selector = Selector(detector, scorer, threads=1, **settings)
    cpu, wall = time.process_time(), time.perf_counter()
    delivered = 0
    for frame, stamp in frames:
        delivered += len(selector.feed(frame, stamp).closed)
    delivered += len(selector.flush())
    return time.process_time() - cpu, time.perf_counter() - wall, delivered


def main(argv=None) -> int:
    from facesel.data import data_root
    from facesel.selector import default_detector, default_scorer
    from facesel.video import open_source

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs of each setting (default 3)")
    parser.add_argument("--setting", choices=("finalise", "switch_cues", "both"), default="finalise",
                        help="what is turned on and off (default finalise)")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    frames = list(open_source(data_root() / "videos" / "arcade_walkers_1080p.mp4"))
    detector, scorer = default_detector(), default_scorer()
    one_run(frames[:20], detector, scorer, True)  # warm-up: model loading, first-call allocations
    cpu = {True: [], False: []}
    for k in range(args.repeats):
        for finalise in ((True, False) if k % 2 == 0 else (False, True)):
            seconds, wall, delivered = one_run(frames, detector, scorer, finalise, args.setting)
            cpu[finalise].append(seconds)
            print(f"{args.setting}={finalise!s:5}  cpu {seconds:6.2f} s  wall {wall:6.2f} s  "
                  f"{len(frames) / seconds:5.2f} frames/CPU-s  {delivered} snapshots")
    on, off = statistics.median(cpu[True]), statistics.median(cpu[False])
    print(f"median CPU s per run: {args.setting} on {on:.2f}, off {off:.2f}; on/off = {on / off:.3f} "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
