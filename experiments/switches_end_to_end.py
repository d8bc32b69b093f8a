"""Snapshots per spliced person, end to end: the default Selector (sparse detection, finaliser on;
the Laplacian scorer for speed, the pick is not what is measured) on every splice (hard cut, cross-fade, gap)
of ``facesel eval switches``, with the switch cues on and off (docs/persons.md).

    python experiments/switches_end_to_end.py

Per splice: results delivered, and whether one result spans both people (its frames on both sides
of the join). The splices are made in memory.
"""

from __future__ import annotations

import cv2


def main() -> int:
    from facesel import Selector
    from facesel.data import data_root
    from facesel.detect import make_detector
    from facesel.eval import switches as sw
    from facesel.scoring import LaplacianVarianceScorer

    cv2.setNumThreads(1)
    detector = make_detector(max_side=1280)
    sources = sw.load_sources(data_root(), detector, 40, 5)
    totals = {True: [0, 0, 0], False: [0, 0, 0]}  # snapshots, spanning both, people
    for clips in sources.values():
        for a, b in sw.pairs_of(clips):
            for kind in sw.KINDS:  # hard cut, cross-fade, gap
                frames, _, owner = sw.splice(a, b, kind, 40, 5, detector)
                for cues in (True, False):
                    selector = Selector(detector, LaplacianVarianceScorer(), threads=1, switch_cues=cues)
                    results = []
                    for k, frame in enumerate(frames):
                        results += selector.feed(frame, k / 30.0).closed
                    results += selector.flush()
                    spanning = sum(1 for r in results if {owner[int(f)] for f in r.frame_indices} >= {0, 1})
                    t = totals[cues]
                    t[0] += len(results)
                    t[1] += spanning
                    t[2] += 2
    for cues, (snapshots, spanning, people) in totals.items():
        print(f"switch_cues={cues!s:5}: {snapshots} snapshots for {people} people, {spanning} snapshots' tracks span "
              f"two people")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
