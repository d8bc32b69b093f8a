"""What the crowd re-link costs: the default pipeline on the arcade video with the re-link
before long links (``LinkRule(long_gap_seconds=None)``, grace 1 s) and with the default one (long
links, grace 3 s), alternating, in one run (docs/persons.md).

    python experiments/crowds_speed.py [--repeats 5]

As ``experiments/persons_speed.py``: frames decoded once into memory, a fresh default Selector
per run on one thread, no sinks; CPU seconds of the process per run (``time.process_time``), the
median of each rule and their ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import cv2


def one_run(frames, detector, scorer, link) -> tuple[float, int]:
    from facesel import Selector
    from facesel.select.finalise import Finaliser

    selector = Selector(detector, scorer, threads=1, post_close=[Finaliser.for_scorer(scorer, link=link)])
    cpu = time.process_time()
    delivered = 0
    for frame, stamp in frames:
        delivered += len(selector.feed(frame, stamp).closed)
    delivered += len(selector.flush())
    return time.process_time() - cpu, delivered


def main(argv=None) -> int:
    from facesel.data import data_root
    from facesel.select.linking import LinkRule
    from facesel.selector import default_detector, default_scorer
    from facesel.video import open_source

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    frames = list(open_source(data_root() / "videos" / "arcade_walkers_1080p.mp4"))
    detector, scorer = default_detector(), default_scorer()
    rules = {"after": LinkRule(), "before": LinkRule(long_gap_seconds=None)}
    one_run(frames[:20], detector, scorer, rules["after"])  # warm-up
    cpu = {name: [] for name in rules}
    for k in range(args.repeats):
        for name in (("after", "before") if k % 2 == 0 else ("before", "after")):
            seconds, delivered = one_run(frames, detector, scorer, rules[name])
            cpu[name].append(seconds)
            print(f"{name:6s} cpu {seconds:6.2f} s  {delivered} snapshots", flush=True)
    after, before = statistics.median(cpu["after"]), statistics.median(cpu["before"])
    print(f"median CPU s per run: after {after:.2f}, before {before:.2f}; after/before = {after / before:.3f} "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
