"""Two-tier full-frame detection (issue 27, session 13): ``coarse_max_side`` and ``fine_every``.

Most full-frame detections search a coarse copy of the frame for new faces while the tracked faces
are searched in their full-resolution squares; one in ``fine_every`` searches it at ``max_side``.
Checked on the arcade video's first frames (1920x1080, up to nine faces, the smallest about 24
pixels): the settings are refused with errors naming them, the Selector counts each tier, a coarse
pass hands the network a quarter of a fine pass's pixels (counted, not timed), and a face only the
fine pass finds is followed by its square on the coarse frames after it.
"""

from __future__ import annotations

import numpy as np
import pytest
from facesel import Selector
from facesel.boxes import pairwise_iou
from facesel.config import PipelineConfig
from facesel.detect.stage import COARSE_OVERLAP, network_pixels, with_new_faces
from facesel.scoring import LaplacianVarianceScorer
from facesel.selector import default_detector
from facesel.serve.pipeline_adapter import check_pipeline_settings
from facesel.types import Detections
from video_frames import first_frames

FRAMES = 48  # frames 0-47: full detections on 0, 4, ..., 44; fine ones on 0, 16, 32 (fine_every 4)
TWO_TIER = {"coarse_max_side": 640, "fine_every": 4}


class RecordingDetector:
    """The default YuNet, recording the shape of every image its ``detect`` gets (the full-frame
    detections: the region search goes through ``detect_squares``) and what it found there."""

    def __init__(self, detector):
        self.detector = detector
        self.calls: list[tuple[tuple, Detections]] = []

    def detect(self, image):
        found = self.detector.detect(image)
        self.calls.append((image.shape, found))
        return found

    def __getattr__(self, name):  # max_side, detect_squares, region_search, thread_safe ...
        return getattr(self.detector, name)


@pytest.fixture(scope="module")
def frames(shared_data):
    return first_frames(shared_data / "videos" / "arcade_walkers_1080p.mp4", FRAMES)


@pytest.fixture(scope="module")
def yunet():
    return default_detector()


def run(yunet, frames, **settings):
    """Per frame its views and (for full frames) the detector's call; the Selector's work and its
    detection stage."""
    detector = RecordingDetector(yunet)
    config = PipelineConfig(threads=1, finalise=False, scene_change=0.0, **settings)
    selector = Selector(detector, LaplacianVarianceScorer(), config=config)
    views, calls = [], {}
    for i, frame in enumerate(frames):
        before = len(detector.calls)
        views.append(selector.feed(frame, i / 25.0))
        if len(detector.calls) > before:
            calls[i] = detector.calls[-1]
    selector.flush()
    return views, calls, selector.work, selector._detect


@pytest.mark.parametrize("settings, message", [
    ({"coarse_max_side": 10}, "coarse_max_side must be 0 (off) or at least 32"),
    ({"coarse_max_side": 1280}, "coarse_max_side must be below max_side (1280)"),
    ({"coarse_max_side": 960, "max_side": 800}, "coarse_max_side must be below max_side (800)"),
    ({"coarse_max_side": -1}, "coarse_max_side must be in [0, inf]"),
    ({"fine_every": 0}, "fine_every must be in [1, inf]"),
])
def test_the_settings_are_refused_naming_them(settings, message):
    with pytest.raises(ValueError) as raised:
        PipelineConfig(**settings)
    assert message in str(raised.value)
    # a camera's pipeline table says where
    with pytest.raises(ValueError, match=r"cameras\.door\.pipeline\.(coarse_max_side|fine_every)"):
        check_pipeline_settings(settings, "cameras.door.pipeline")


def test_the_settings_refuse_other_types_and_take_good_values():
    with pytest.raises(TypeError, match="coarse_max_side must be an integer"):
        PipelineConfig(coarse_max_side=640.5)
    with pytest.raises(TypeError, match="fine_every must be an integer"):
        PipelineConfig(fine_every=True)
    config = PipelineConfig(coarse_max_side=640, fine_every=2)
    assert (config.coarse_max_side, config.fine_every) == (640, 2)
    assert PipelineConfig(max_side=0, coarse_max_side=640).coarse_max_side == 640  # no max_side: any size
    assert PipelineConfig().coarse_max_side == 0  # off by default (docs/performance.md, session 13)


def test_the_selector_counts_each_tier_and_the_network_pixels(yunet, frames):
    _, calls, today, stage_today = run(yunet, frames)
    _, two_calls, work, stage = run(yunet, frames, **TWO_TIER)
    # today: every full detection is a fine one, at 1280 x 720
    assert today["full_detections"] == FRAMES // 4 == len(calls)
    assert (today["full_fine"], today["full_coarse"]) == (today["full_detections"], 0)
    assert stage_today.network_pixels == {"fine": 12 * 1280 * 720, "coarse": 0}
    # two tiers: the same schedule, one full detection in four fine (frames 0, 16, 32)
    assert work["full_detections"] == today["full_detections"] == len(two_calls)
    assert (work["full_fine"], work["full_coarse"]) == (3, 9)
    fine = sorted(i for i, (shape, _) in two_calls.items() if shape[:2] == (1080, 1920))
    coarse = sorted(i for i, (shape, _) in two_calls.items() if shape[:2] == (360, 640))
    assert fine == [0, 16, 32] and len(coarse) == 9  # every call one or the other
    # pixels handed to the network, from what the detector was given (it shrinks a frame to its max_side)
    counted = {"fine": sum(network_pixels(two_calls[i][0], yunet.max_side) for i in fine),
               "coarse": sum(network_pixels(two_calls[i][0], yunet.max_side) for i in coarse)}
    assert stage.network_pixels == counted
    assert counted["coarse"] / len(coarse) == counted["fine"] / len(fine) / 4  # a quarter a detection
    assert sum(counted.values()) < stage_today.network_pixels["fine"] / 2
    # the coarse frames also search the tracked faces' squares: more squares than today
    assert work["regions"] > today["regions"]


def test_a_face_only_the_fine_pass_finds_is_followed_by_its_square(yunet, frames):
    views, calls, work, _ = run(yunet, frames, **TWO_TIER)
    scale = np.array([1920 / 640, 1080 / 360, 1920 / 640, 1080 / 360], np.float32)
    followed = []
    for track_id in {t.track_id for v in views for t in v.tracks}:
        seen = {v.frame_index: t.box for v in views for t in v.tracks if t.track_id == track_id}
        first = min(seen)
        if first not in calls or calls[first][0][:2] != (1080, 1920):
            continue  # not found first by a fine pass
        # coarse frames after it on which the track was detected although the coarse pass found
        # nothing over it: the face came from its square
        unseen_by_coarse = []
        for i, (shape, found) in calls.items():
            if i > first and shape[:2] == (360, 640) and i in seen:
                overlap = pairwise_iou(found.boxes * scale, seen[i][None])[:, 0] if len(found) else np.zeros(1)
                if overlap.max() <= COARSE_OVERLAP:
                    unseen_by_coarse.append(i)
        between = [i for i in seen if i > first and i not in calls]  # region frames
        if len(unseen_by_coarse) >= 3 and len(between) >= 9:
            followed.append((track_id, first, unseen_by_coarse))
    # the arcade video's smallest faces (about 24-28 px): found at frames 0 and 16, out of the coarse
    # pass's reach (12 px there, under YuNet's smallest), followed by their squares
    assert followed, "no face found by the fine pass was followed on the coarse frames by its square"
    assert work["full_coarse"] > 0


def test_only_faces_the_squares_did_not_find_are_added():
    marks = np.zeros((1, 5, 2), np.float32)
    tracked = Detections(np.array([[100, 100, 140, 140]], np.float32), np.array([0.9], np.float32), marks)
    coarse = Detections(np.array([[102, 98, 142, 138], [400, 400, 480, 480]], np.float32),
                        np.array([0.8, 0.7], np.float32), np.zeros((2, 5, 2), np.float32))
    merged = with_new_faces(tracked, coarse)
    # the tracked face keeps its square's box; the coarse copy of it is left out; the new face is added
    assert merged.boxes.tolist() == [[100, 100, 140, 140], [400, 400, 480, 480]]
    assert merged.scores.tolist() == pytest.approx([0.9, 0.7])
    assert merged.landmarks.shape == (2, 5, 2)
    assert with_new_faces(Detections.empty(), coarse).boxes.tolist() == coarse.boxes.tolist()
    assert with_new_faces(tracked, Detections.empty()) is tracked


def test_a_scene_change_forces_a_fine_pass(yunet, frames):
    # a cut at frame 10 (the picture turned upside down and inverted: a new scene)
    cut = frames[:10] + [np.ascontiguousarray(255 - f[::-1]) for f in frames[10:24]]
    detector = RecordingDetector(yunet)
    config = PipelineConfig(threads=1, finalise=False, **TWO_TIER)
    selector = Selector(detector, LaplacianVarianceScorer(), config=config)
    for i, frame in enumerate(cut):
        selector.feed(frame, i / 25.0)
    work = selector.work
    assert work["scene_changes"] >= 1
    fine_shapes = [shape for shape, _ in detector.calls if shape[:2] == (1080, 1920)]
    assert work["full_fine"] == len(fine_shapes) == 1 + work["scene_changes"]  # the first, and each cut
    assert work["full_coarse"] == work["full_detections"] - work["full_fine"] > 0
