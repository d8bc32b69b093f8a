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

import cv2
from ab_cpu import alternate, print_ratio


def main(argv=None) -> int:
    from facesel import Selector
    from facesel.data import data_root_or_exit
    from facesel.selector import default_detector, default_scorer
    from facesel.video import open_source

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs of each setting (default 3)")
    parser.add_argument("--setting", choices=("finalise", "switch_cues", "both"), default="finalise",
                        help="what is turned on and off (default finalise)")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    frames = list(open_source(data_root_or_exit() / "videos" / "arcade_walkers_1080p.mp4"))
    detector, scorer = default_detector(), default_scorer()
    names = {"finalise": ("finalise",), "switch_cues": ("switch_cues",), "both": ("finalise", "switch_cues")}

    def with_setting(on: bool):
        return lambda: Selector(detector, scorer, threads=1, **dict.fromkeys(names[args.setting], on))

    print_ratio(alternate({f"{args.setting} on": with_setting(True), f"{args.setting} off": with_setting(False)},
                          frames, args.repeats))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
