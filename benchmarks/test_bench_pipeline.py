"""End-to-end Selector throughput on real arcade frames (pytest-benchmark), results checked too.

    pytest benchmarks/test_bench_pipeline.py                       # timings
    pytest benchmarks/test_bench_pipeline.py --benchmark-disable   # CI: the checks only, one run each

The full table with the time split per stage: ``python benchmarks/pipeline_throughput.py``; the
sparse default against the exhaustive mode end to end: ``python benchmarks/realtime_throughput.py``.
"""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest
from facesel import Selector
from facesel.detect import make_detector
from facesel.scoring import LaplacianVarianceScorer
from facesel.timing import PIPELINE_STAGES

pytest.importorskip("pytest_benchmark")

FRAMES = 5  # min_hits is 3, so tracks are confirmed within these frames


@pytest.fixture(scope="module")
def arcade_1080p(shared_data) -> list[np.ndarray]:
    root = shared_data  # the root conftest skips, or fails under CI, without the data
    capture = cv2.VideoCapture(str(root / "videos" / "arcade_walkers_1080p.mp4"))
    frames = []
    for _ in range(30 + FRAMES):  # from frame 30 on, several walkers face the camera
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    if len(frames) < 30 + FRAMES:
        pytest.fail("could not read the arcade video")
    return frames[30:]


@pytest.mark.slow
@pytest.mark.parametrize("size", [(1920, 1080), (1280, 720)], ids=["1080p", "720p"])
@pytest.mark.parametrize("detector_name", ["yunet", "mtcnn", "haar"])
@pytest.mark.parametrize("mode", ["exhaustive", "sparse"])
def test_pipeline_throughput(benchmark, arcade_1080p, detector_name, size, mode):
    frames = [f if f.shape[1::-1] == size else cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in arcade_1080p]
    detector = make_detector(detector_name)
    detector.detect(frames[0])  # lazy model loading is not throughput
    scorer = LaplacianVarianceScorer()
    selectors = []

    def run_stream():
        selector = Selector(detector, scorer, mode=mode, threads=1, clock=time.process_time)
        results = []
        for k, frame in enumerate(frames):
            results += selector.feed(frame, k / 25.0).closed
        results += selector.flush()
        selectors.append(selector)
        return results

    results = benchmark.pedantic(run_stream, rounds=1, iterations=1)
    selector = selectors[-1]
    timings = selector.timings
    benchmark.extra_info.update({f"{s}_share": timings[s] / timings["total"] for s in PIPELINE_STAGES})
    assert timings["frames"] == FRAMES
    assert timings["total"] == pytest.approx(sum(timings[s] for s in PIPELINE_STAGES))
    assert len(results) >= 1  # several walkers face the camera in these frames
    for r in results:
        assert r.first_frame <= r.best.frame_index <= r.last_frame
        # the kept crop is one of the track's scored observations; by default the consensus pick
        # chooses it among the best-scored finalists, so it need not be the best-scored one
        assert r.best.quality in r.qualities.tolist()
        x1, y1, x2, y2 = r.best.box
        assert -0.5 * size[0] < x1 < x2 < 1.5 * size[0] and -0.5 * size[1] < y1 < y2 < 1.5 * size[1]
    assert selector.held_observations == 0
