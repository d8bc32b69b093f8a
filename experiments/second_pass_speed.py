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

import cv2
from ab_cpu import alternate, print_ratio


def main(argv=None) -> int:
    from facesel import Selector
    from facesel.config import PipelineConfig
    from facesel.data import data_root_or_exit
    from facesel.selector import default_detector, default_scorer
    from facesel.video import open_source

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    frames = list(open_source(data_root_or_exit() / "videos" / "arcade_walkers_1080p.mp4"))
    scorer = default_scorer()

    def with_pass(on: bool):
        config = PipelineConfig(second_pass=on)
        detector = default_detector(config)  # YuNet at 0.3 with the second pass, 0.6 without
        return lambda: Selector(detector, scorer, config=config, threads=1)

    print_ratio(alternate({"with": with_pass(True), "without": with_pass(False)}, frames, args.repeats))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
