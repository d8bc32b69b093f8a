"""The sparse default against the exhaustive yardstick on the real arcade video (the issue's
"the choice is kept"): the same tracks, within 10 %, and a kept crop that ranks high among its
track's exhaustive scores, for much less CPU time measured in the same run.

About a minute of CPU on one core per scoring rule: the exhaustive run detects 105 frames at
1280 px and fully scores about 800 crops.

Two rules are checked. With ``dose`` (a pixel-only score) the sparse mode keeps the exhaustive
choice. With the shipped ``pick`` rule it does not yet: the rule weighs the detector's confidence
and the landmark pose, and a face found by the region search gets a noisier confidence and pose
than the same face found on the whole frame (sd 0.038 in confidence, 0.12 in yaw, measured on 150
faces), so the best of many noisy crops is often a noisy one: 89 % of kept crops in their track's
exhaustive top 10 % (docs/architecture.md). That shortfall is marked as an expected failure
(strict: it reports when fixed), not hidden by a looser threshold.
"""

from __future__ import annotations

import time

import cv2
import pytest
from facesel import Selector
from facesel.config import PipelineConfig
from facesel.select.agreement import agreement
from facesel.scoring import default_scorer
from facesel.selector import default_detector
from facesel.video import open_source


@pytest.fixture(scope="module")
def arcade_frames(shared_data):
    return list(open_source(shared_data / "videos" / "arcade_walkers_1080p.mp4"))


@pytest.fixture(scope="module", params=["pick", "dose"])
def arcade_runs(request, arcade_frames):
    cv2.setNumThreads(1)
    frames = arcade_frames
    detector, scorer = default_detector(), default_scorer(rule=request.param)
    detector.detect(frames[0][0])  # lazy loading is not throughput
    out = {"rule": request.param}
    for mode in ("exhaustive", "sparse"):
        # finalise=False: this compares the two modes' choice per track, before any merge or drop
        # (persons, issue 12); the finaliser's own effect is tests/test_persons_videos.py's.
        # consensus_finalists=0 (explicit, whatever the default): the yardstick ranks the kept crop
        # among the exhaustive track's scores, which is the choice only when the score alone chooses.
        selector = Selector(detector, scorer, mode=mode, threads=1, finalise=False, consensus_finalists=0)
        cpu = time.process_time()
        results = [r for f, t in frames for r in selector.feed(f, t).closed] + selector.flush()
        out[mode] = (results, time.process_time() - cpu, selector.work)
    return out


@pytest.mark.slow
def test_sparse_mode_finds_the_exhaustive_tracks_on_the_arcade_video(arcade_runs):
    sparse, _, work = arcade_runs["sparse"]
    exhaustive, _, work_all = arcade_runs["exhaustive"]
    assert work_all["scored"] == work_all["seen"] and work["scored"] < 0.3 * work_all["scored"]
    a = agreement(sparse, exhaustive)
    assert len(exhaustive) >= 15  # the yardstick itself found the crowd
    assert abs(a.track_ratio - 1.0) <= 0.10, f"{a.tracks} tracks against {a.reference_tracks}"


@pytest.mark.slow
def test_sparse_mode_keeps_the_exhaustive_choice_on_the_arcade_video(request, arcade_runs):
    if arcade_runs["rule"] == "pick":
        request.applymarker(pytest.mark.xfail(
            strict=True, reason="region-search detections carry noisier confidence and pose, which the "
            "pick rule weighs: 89 % of kept crops in the exhaustive top 10 % with YuNet on ONNX Runtime, 84 % on yuface (docs/architecture.md)"))
    a = agreement(arcade_runs["sparse"][0], arcade_runs["exhaustive"][0])
    within = a.share_within(0.1)
    assert within >= 0.9, f"{within:.0%} of kept crops in their track's exhaustive top 10 %; ranks {a.ranks}"


@pytest.mark.slow
def test_default_costs_a_fraction_of_the_exhaustive_cpu_time(arcade_runs):
    """A ratio within one run (both modes alike hit by the machine's load).

    The bound is half the exhaustive CPU time. It was 1/2.5 when the default scored with dose
    (28 ms a crop, so exhaustive scoring was most of the cost); the pick rule's full score costs
    4.7 ms a crop, exhaustive mode got cheaper, and the measured ratio fell to 2.4-2.9 (2.36 in a
    CI run: 13.2 s against 31.1 s), so the saving is now mostly detection's (full frames on 27 of
    105 frames). 2.0 still fails if sparse detection or screening stop saving work."""
    _, cpu, work = arcade_runs["sparse"]
    _, cpu_all, _ = arcade_runs["exhaustive"]
    assert work["full_detections"] == -(-105 // PipelineConfig().detect_every)  # the schedule, no more
    assert cpu < cpu_all / 2.0, f"sparse {cpu:.1f} s against exhaustive {cpu_all:.1f} s of CPU"
