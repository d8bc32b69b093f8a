"""What the crowd re-link costs: the default pipeline on the arcade video with the re-link
before long links (``LinkRule(long_gap_seconds=None)``, grace 1 s) and with the default one (long
links, grace 3 s), alternating, in one run (docs/persons.md).

    python experiments/crowds_speed.py [--repeats 5] [--compare colours|covered|veto]

``--compare colours``: the default rule against the colour sample before the occluded-crowds work
(``LinkRule(colour_sample="ends")``, the same grace); the evidence keeps the better-seen colours
in both (a tuple appended per detection with colours), so this measures the re-link's sample.

``--compare covered``: covered links on (``LinkRule(covered_gap_seconds=3.0)``: the finaliser's
evidence then records who was in front of each detection, and closed tracks with a cover wait up to
3 s) against the default (off).

``--compare veto``: the link veto on (``LinkRule(veto=("edge", "entered", "reversed"))``, docs/persons.md
"The link veto") against the default (off).

As ``experiments/persons_speed.py``: frames decoded once into memory, a fresh default Selector
per run on one thread, no sinks; CPU seconds of the process per run (``time.process_time``), the
median of each rule and their ratio.
"""

from __future__ import annotations

import argparse

import cv2
from ab_cpu import alternate, print_ratio


def main(argv=None) -> int:
    from facesel import Selector
    from facesel.data import data_root_or_exit
    from facesel.select.finalise import Finaliser
    from facesel.select.linking import LinkRule
    from facesel.selector import default_detector, default_scorer
    from facesel.video import open_source

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--compare", choices=("long", "colours", "covered", "veto"), default="long",
                        help="long: the default against no long links (default); colours: against colour_sample='ends'; "
                             "covered: covered links on against the default; veto: the link veto on against the default")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    frames = list(open_source(data_root_or_exit() / "videos" / "arcade_walkers_1080p.mp4"))
    detector, scorer = default_detector(), default_scorer()

    def with_rule(link):
        return lambda: Selector(detector, scorer, threads=1, post_close=[Finaliser.for_scorer(scorer, link=link)])

    if args.compare in ("covered", "veto"):
        on = LinkRule(covered_gap_seconds=3.0) if args.compare == "covered" else LinkRule(veto=("edge", "entered", "reversed"))
        print_ratio(alternate({"after": with_rule(on), "before": with_rule(LinkRule())},
                              frames, args.repeats))
        return 0
    before = LinkRule(long_gap_seconds=None) if args.compare == "long" else LinkRule(colour_sample="ends")
    print_ratio(alternate({"after": with_rule(LinkRule()), "before": with_rule(before)}, frames, args.repeats))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
