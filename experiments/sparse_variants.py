"""Variants of the sparse mode's detection that were measured and not taken (docs/architecture.md,
"What is not done").

    python experiments/sparse_variants.py

The arcade video is decoded once into memory (decoding is not timed); each configuration runs the
default pipeline on one thread (``threads=1``, finaliser on, no sinks) with one change patched
in, and is compared with the exhaustive run: CPU ms a frame (``time.process_time``), tracks, and
the share of kept crops in their exhaustive track's top 10 % (own score / exhaustive score of the
kept frame, :func:`facesel.select.agreement.agreement`). Variants:

* ``low-res full frames between``: every other full-frame detection (so one frame in 8) at
  1280 px as now, the ones between at 640 px, only for faces no track is expected at (the
  tracked ones are searched in their squares as on any other frame);
* ``squares for tracks seen within 2 frames``: a track unseen for longer is left to the next
  full-frame detection instead of being searched for in its square;
* ``squares shrunk with INTER_LINEAR``: instead of ``INTER_AREA``.

One machine, one run: read the differences against the default row, which is noisy by about a
track (one track of 12 is 8 percentage points).
"""

from __future__ import annotations

import time
from contextlib import contextmanager

import cv2
import numpy as np


@contextmanager
def patched(module, name, value):
    original = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, original)


def low_res_between(stage_module, low_side: int = 640):
    """A DetectStage.detect in which every other full-frame detection runs at ``low_side`` for new faces."""
    from facesel.boxes import pairwise_iou
    from facesel.detect.schedule import search_regions
    from facesel.types import Detections

    original = stage_module.DetectStage.detect
    count = {"full": 0}

    def detect(self, frame, expected, planned=None):
        planned = self.plan(frame) if planned is None else planned
        if not planned.full:
            return original(self, frame, expected, planned)
        count["full"] += 1
        if count["full"] % 2 == 1:
            return original(self, frame, expected, planned)
        c = self.config
        base = min(1.0, c.max_side / max(frame.shape[:2]))
        tracked = search_regions(self.detector, frame, expected, scale=c.region_scale, face_px=c.region_face_px,
                                 min_px=c.region_min_px, base_shrink=base)
        self.regions_searched += len(expected)
        kept_side, self.detector.max_side = self.detector.max_side, low_side
        try:
            new = self._full(frame)
        finally:
            self.detector.max_side = kept_side
        if len(new) and len(expected):
            known = np.concatenate([expected, tracked.boxes]) if len(tracked) else expected
            new = new[pairwise_iou(new.boxes, known).max(axis=1) < 0.2]
        parts = [d for d in (tracked, new) if len(d)]
        if not parts:
            return Detections.empty(with_landmarks=True), True
        merged = Detections(np.concatenate([d.boxes for d in parts]), np.concatenate([d.scores for d in parts]),
                            np.concatenate([d.landmarks for d in parts]))
        return stage_module.usable(merged, frame.shape, c.min_face_size), True

    return detect


def recent_only(max_unseen: int = 2):
    """A TrackStage.expected_boxes that leaves out tracks unseen for more than ``max_unseen`` frames."""

    def expected_boxes(self):
        boxes = [box + velocity * (self._frame - seen) for seen, box, velocity, *_ in self._last.values()
                 if self._frame - seen <= max_unseen + 1]
        return np.stack(boxes).astype(np.float32) if boxes else np.zeros((0, 4), np.float32)

    return expected_boxes


class _LinearCv2:
    """cv2 as :mod:`facesel.detect.schedule` sees it, with INTER_AREA resizes made INTER_LINEAR."""

    def __getattr__(self, name):
        return getattr(cv2, name)

    @staticmethod
    def resize(image, size, interpolation=None):
        return cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)


def main() -> int:
    import facesel.detect.schedule as schedule
    import facesel.detect.stage as stage
    import facesel.track as track
    from facesel import Selector
    from facesel.data import data_root
    from facesel.select.agreement import agreement
    from facesel.selector import default_detector, default_scorer
    from facesel.video import open_source

    cv2.setNumThreads(1)
    frames = list(open_source(data_root() / "videos" / "arcade_walkers_1080p.mp4"))
    detector, scorer = default_detector(), default_scorer()
    detector.detect(frames[0][0])  # lazy loading is not throughput

    def run(**settings):
        selector = Selector(detector, scorer, threads=1, **settings)
        cpu = time.process_time()
        results = [r for f, t in frames for r in selector.feed(f, t).closed] + selector.flush()
        return results, 1000 * (time.process_time() - cpu) / len(frames), selector.work["regions"]

    reference, ref_ms, _ = run(mode="exhaustive")
    variants = [
        ("default", None),
        ("low-res full frames between", (stage.DetectStage, "detect", low_res_between(stage))),
        ("squares for tracks seen within 2 frames", (track.TrackStage, "expected_boxes", recent_only(2))),
        ("squares shrunk with INTER_LINEAR", (schedule, "cv2", _LinearCv2())),
    ]
    print(f"exhaustive: {ref_ms:.1f} CPU ms a frame, {len(reference)} tracks (arcade, 105 frames, one thread)")
    print("| variant | CPU ms/frame | squares searched | tracks | kept crop in top 10 % (own / by frame) |")
    print("|---|---|---|---|---|")
    for name, patch in variants:
        if patch is None:
            results, ms, squares = run()
        else:
            with patched(*patch):
                results, ms, squares = run()
        a, b = agreement(results, reference), agreement(results, reference, by="frame")
        print(f"| {name} | {ms:.1f} | {squares} | {a.tracks} / {a.reference_tracks} | "
              f"{100 * a.share_within(0.1):.0f} % / {100 * b.share_within(0.1):.0f} % |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
