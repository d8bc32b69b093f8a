"""What a coarser detection schedule costs in choice: sparse runs at ``detect_every`` 4..32 against
the exhaustive yardstick on the arcade video.

    python experiments/coarse_schedule_agreement.py [--every 4 8 16 32]

``facesel serve``'s load governor (``facesel/serve/scheduler.py``) doubles a camera's
``detect_every`` up to ``max_detect_every`` (16 by default) when the camera cannot keep up. This
runs the default pipeline (YuNet, the shipped ``pick`` rule; ``finalise=False``, as in
``tests/test_sparse_vs_exhaustive.py``) frame by frame on one thread, exhaustive once and sparse at
each schedule, and reports per schedule: tracks against the exhaustive run's, the share of kept
crops within their track's exhaustive top 10 % (``facesel.select.agreement``), and CPU seconds
(``time.process_time``, the same run, so ratios are fair on a loaded machine).
"""

from __future__ import annotations

import argparse
import time

import cv2


def main(argv=None) -> int:
    from facesel import Selector
    from facesel.data import data_root
    from facesel.scoring import default_scorer
    from facesel.select.agreement import agreement
    from facesel.selector import default_detector
    from facesel.video import open_source

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, nargs="+", default=[4, 8, 16, 32])
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    frames = list(open_source(data_root() / "videos" / "arcade_walkers_1080p.mp4"))
    detector, scorer = default_detector(), default_scorer()
    detector.detect(frames[0][0])  # lazy loading is not throughput

    def run(**settings):
        selector = Selector(detector, scorer, threads=1, finalise=False, **settings)
        cpu = time.process_time()
        results = [r for f, t in frames for r in selector.feed(f, t).closed] + selector.flush()
        return results, time.process_time() - cpu

    reference, reference_cpu = run(mode="exhaustive")
    print(f"exhaustive: {len(reference)} tracks, {reference_cpu:.1f} CPU s")
    print("| detect_every | tracks (exhaustive) | kept crops in the exhaustive top 10 % | CPU s | CPU vs exhaustive |")
    print("|---|---|---|---|---|")
    for every in args.every:
        results, cpu = run(mode="sparse", detect_every=every)
        a = agreement(results, reference)
        print(f"| {every} | {a.tracks} ({a.reference_tracks}) | {a.share_within(0.1):.0%} | {cpu:.1f} | "
              f"{cpu / reference_cpu:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
