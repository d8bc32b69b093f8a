"""Not a test: the region search with its work around YuNet in the C++ core and in the Python
reference (``YuNetDetector.region_search``), on every region search of a Selector run over a shared
video: both paths on the same frame and boxes (alternating which goes first), every result
compared bit for bit, and each path's CPU split into exclusive pieces (thread time, this one run).

    python experiments/region_search_equal.py [--video arcade_walkers_1080p.mp4] [--detect-every 4]

``--pipeline``: the whole Selector (default settings, one thread) on the video with each path;
compares every frame's tracks (id, box bytes, quality) and every closed track's best snapshot.

``--only core|python``: just the Selector (one thread, ``--detect-every``) over the video twice with
that path, nothing measured: the process to sample, e.g.
``py-spy record -r 250 --gil -f raw -o out.txt -- python experiments/region_search_equal.py --only python``
and count the samples whose stack holds ``search_regions``.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict

import numpy as np


class Exclusive:
    """Wraps functions so that each call's thread CPU, less that of wrapped calls inside it, is
    summed under a label (the pieces of one region search add up to its whole)."""

    def __init__(self):
        self.totals = defaultdict(float)
        self.stack: list[float] = []  # the inner wrapped time of each open call

    def wrap(self, owner, name: str, label: str) -> None:
        inner = getattr(owner, name)

        def timed(*args, **kwargs):
            self.stack.append(0.0)
            start = time.thread_time()
            try:
                return inner(*args, **kwargs)
            finally:
                spent = time.thread_time() - start
                nested = self.stack.pop()
                self.totals[label] += spent - nested
                if self.stack:
                    self.stack[-1] += spent

        setattr(owner, name, timed)


PYTHON_GLUE = "Python: planning, checks, grouping, mapping back, merging"


def main() -> int:
    from facesel.data import data_root_or_exit

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--video", default="arcade_walkers_1080p.mp4")
    parser.add_argument("--detect-every", type=int, default=4)
    parser.add_argument("--region-shrink", default="area", choices=("area", "fast"))
    parser.add_argument("--pipeline", action="store_true", help="compare the whole Selector's output instead")
    parser.add_argument("--only", choices=("core", "python"), default=None,
                        help="just run the Selector twice with this path (for a sampling profiler)")
    args = parser.parse_args()
    video = data_root_or_exit() / "videos" / args.video
    if args.only:
        return only(video, args.only, args.detect_every)
    if args.pipeline:
        return pipeline(video)
    return calls(video, args.detect_every, args.region_shrink)


def calls(video, detect_every: int, region_shrink: str) -> int:
    import facesel._core as core
    import facesel.detect.schedule as schedule
    import facesel.detect.stage as stage
    import facesel.detect.yunet as yunet
    from facesel.config import PipelineConfig
    from facesel.selector import Selector
    from facesel.video import open_source

    clocks = {path: Exclusive() for path in ("core", "python")}
    current = {"path": None}  # None outside the region searches: full-frame detections are not charged

    class Switch:
        """One wrapper a function, charging the path being run."""

    def wrap_all(owner, name, label):
        inner = getattr(owner, name)
        wrapped = {None: inner}
        for path, clock in clocks.items():
            holder = Switch()
            setattr(holder, name, inner)
            clock.wrap(holder, name, label)
            wrapped[path] = getattr(holder, name)
        setattr(owner, name, lambda *a, **k: wrapped[current["path"]](*a, **k))

    wrap_all(schedule, "search_regions", PYTHON_GLUE)
    wrap_all(schedule, "_search_core", PYTHON_GLUE)
    wrap_all(yunet.YuNetDetector, "detect_many", PYTHON_GLUE)
    wrap_all(yunet.YuNetDetector, "detect_squares", PYTHON_GLUE)
    wrap_all(schedule, "cut_square", "cut + shrink (cv2.resize and its Python)")
    wrap_all(schedule, "shrink_squares", "cut + shrink (cv2.resize and its Python)")
    wrap_all(yunet.YuNetDetector, "_run_onnx", "YuNet network (ONNX Runtime)")
    wrap_all(yunet.YuNetDetector, "_decode_outputs", "output decoding (C++ yunet_decode and its call)")
    wrap_all(yunet.YuNetDetector, "_as_detections", "Python: Detections per square")
    wrap_all(yunet, "_padded", "padding (cv2.copyMakeBorder; np.stack is in the Python glue)")
    wrap_all(yunet, "_padded_batches", "padding + stacking (C++ region_batches)")
    wrap_all(schedule, "pairwise_iou", "Python: IoU with the searched box (pairwise_iou)")
    wrap_all(schedule, "_nms", "Python: suppression across squares (_nms)")
    wrap_all(core, "region_plan", "C++ region_plan")
    wrap_all(core, "region_merge", "C++ region_merge")

    searched = frames = differ = faces = squares = 0
    real = schedule.search_regions

    def both(detector, frame, boxes, **kwargs):
        nonlocal searched, differ, faces, squares
        found = {}
        order = ("core", "python") if searched % 2 == 0 else ("python", "core")
        for path in order:
            current["path"] = path
            yunet.YuNetDetector.region_search = path
            found[path] = real(detector, frame, boxes, **kwargs)
        current["path"] = None
        yunet.YuNetDetector.region_search = "core"
        a, b = found["core"], found["python"]
        same = all(x is not None and y is not None and x.dtype == y.dtype and x.shape == y.shape and np.array_equal(x, y)
                   for x, y in ((a.boxes, b.boxes), (a.scores, b.scores), (a.landmarks, b.landmarks)))
        searched += 1
        squares += len(boxes)
        differ += not same
        faces += len(b)
        return a

    stage.search_regions = both
    config = PipelineConfig(detect_every=detect_every, region_shrink=region_shrink)
    selector = Selector(config=config, threads=1)
    for _ in selector.run(open_source(video), live=False):
        frames += 1
    selector.flush()
    print(f"{video.name}: {frames} frames, detect_every {detect_every}, region_shrink {region_shrink}: {searched} region "
          f"searches, {squares} boxes searched, {faces} faces found; searches whose results differ: {differ}")
    print("CPU ms a frame of the whole video, by piece (exclusive thread time):")
    labels = sorted(set(clocks["core"].totals) | set(clocks["python"].totals))
    print(f"  {'piece':62s} {'python':>8s} {'core':>8s}")
    for label in labels:
        print(f"  {label:62s} {1000 * clocks['python'].totals[label] / frames:8.3f} {1000 * clocks['core'].totals[label] / frames:8.3f}")
    whole = {path: sum(clock.totals.values()) for path, clock in clocks.items()}
    print(f"  {'whole region search':62s} {1000 * whole['python'] / frames:8.3f} {1000 * whole['core'] / frames:8.3f}")
    around = {path: whole[path] - clocks[path].totals["YuNet network (ONNX Runtime)"]
              - clocks[path].totals["cut + shrink (cv2.resize and its Python)"] for path in clocks}
    print(f"  {'around the network, less cut + shrink':62s} {1000 * around['python'] / frames:8.3f} "
          f"{1000 * around['core'] / frames:8.3f}  ({around['core'] / around['python']:.2f} of python's)")
    return 1 if differ else 0


def only(video, path: str, detect_every: int) -> int:
    from facesel.detect.yunet import YuNetDetector
    from facesel.selector import Selector
    from facesel.video import open_source

    YuNetDetector.region_search = path
    for _ in range(2):
        selector = Selector(threads=1, detect_every=detect_every)
        for _ in selector.run(open_source(video), live=False):
            pass
        selector.flush()
    return 0


def pipeline(video) -> int:
    import sys
    from pathlib import Path

    from facesel.detect.yunet import YuNetDetector

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from yunet_decode_equal import selector_fingerprint

    seen = {}
    for path in ("python", "core"):
        YuNetDetector.region_search = path
        seen[path], selector = selector_fingerprint(video)
        frames, best = seen[path]
        print(f"{path}: {len(frames)} frames, {sum(map(len, frames))} tracked faces, {len(best)} tracks closed, "
              f"{selector.work['regions']} regions searched")
    YuNetDetector.region_search = "core"
    same_frames = sum(a == b for a, b in zip(seen["python"][0], seen["core"][0]))
    same_best = seen["python"][1] == seen["core"][1]
    print(f"frames with identical tracks (id, box bytes, quality): {same_frames} of {len(seen['python'][0])}; "
          f"closed tracks' best snapshots identical: {same_best}")
    return 0 if same_best and same_frames == len(seen["python"][0]) == len(seen["core"][0]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
