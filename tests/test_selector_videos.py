"""The Selector end to end on the shared real videos: OTB Girl, the arcade walkers, the selfie.

Each video runs once per module (module-scoped fixtures). Detection is the expensive part, so
the arcade video is cut to its first 60 frames and detected at 960 pixels, and the selfie video
is taken one frame in two and detected at 640 pixels (its faces are large). These tests check
the exhaustive mode (every frame detected, every face scored), whose per-frame detections they
record or replay; the sparse default is held to it in test_sparse_vs_exhaustive.py.
"""

from __future__ import annotations

import facesel
import numpy as np
import pytest
from facesel import Selector
from facesel.detect import make_detector
from facesel.scoring import LaplacianVarianceScorer
from facesel.selector import default_scorer
from facesel.video import open_source


class RecordingDetector:
    """Wraps a detector and keeps what it found on every frame."""

    def __init__(self, detector):
        self.detector = detector
        self.found = []

    def detect(self, frame):
        dets = self.detector.detect(frame)
        self.found.append(dets)
        return dets


class ReplayDetector:
    def __init__(self, found):
        self.found, self.calls = found, 0

    def detect(self, frame):
        self.calls += 1
        return self.found[self.calls - 1]


def run(selector, frames, stamps=None):
    results = []
    for k, frame in enumerate(frames):
        results += selector.feed(frame, None if stamps is None else stamps[k]).closed
    open_before_flush = selector.open_tracks
    flushed = selector.flush()
    return results + flushed, open_before_flush, flushed


# -- OTB Girl -------------------------------------------------------------------------------------


def face_matches_head(face: np.ndarray, head: np.ndarray) -> bool:
    """Does a detector's face box agree with OTB's ground-truth box of the girl's head?

    OTB boxes the whole head (hair included); face detectors box brows to chin, about 60% of that
    area here, so a correct face box reaches IoU 0.5-0.6 when frontal and drops below 0.5 in
    profile although it is right. Fair criterion: IoU >= 0.5, or the face box lies at least 70%
    inside the head box and is at least a quarter of its area (a face in the right head, not a
    speck or a box around someone else).
    """
    x1, y1 = max(face[0], head[0]), max(face[1], head[1])
    x2, y2 = min(face[2], head[2]), min(face[3], head[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    face_area = (face[2] - face[0]) * (face[3] - face[1])
    head_area = (head[2] - head[0]) * (head[3] - head[1])
    iou = inter / (face_area + head_area - inter)
    return bool(iou >= 0.5 or (inter >= 0.7 * face_area and face_area >= 0.25 * head_area))


OTB_MAX_AGE = 10


@pytest.fixture(scope="module")
def otb(shared_data):
    folder = shared_data / "videos" / "otb_girl"
    head = np.loadtxt(folder / "groundtruth_rect.txt")
    head[:, 2:] += head[:, :2]  # x, y, w, h -> x1, y1, x2, y2
    frames = [frame for frame, _ in open_source(folder / "img")]
    recorder = RecordingDetector(make_detector("yunet"))
    # The frames are 128x96: the face is about 25 pixels, so the size floor goes down.
    selector = Selector(recorder, LaplacianVarianceScorer(), mode="exhaustive", min_face_size=8, max_age=OTB_MAX_AGE)
    results, _, _ = run(selector, frames)
    return head, recorder.found, results, selector


def test_otb_girl_is_one_track_while_her_face_is_visible(otb):
    """The issue's criterion, made fair. OTB boxes the girl's head in all 500 frames, also while
    she shows the back of her head (about frames 94-108 and 176-240): there is no face then, for a
    face detector or for facesel to keep, and without recognition (which facesel must not do) a
    track cannot know that the face which comes back is hers. So: in the frames where the detector
    sees her face, grouped into stretches split by the turn-aways (gaps longer than ``max_age``),
    one track must cover at least 80% of each stretch, and together the results must cover
    nearly every such frame. Literally (80% of all 500 frames in one track at IoU >= 0.5) it is
    out of reach for any face pipeline: only 390 frames show a detectable face at all."""
    head, found, results, selector = otb
    visible = np.array([any(face_matches_head(b, head[k]) for b in d.boxes) for k, d in enumerate(found)])
    assert visible.sum() >= 0.7 * len(head)  # the detector sees her face in most frames
    covered = {
        r.track_id: {int(f) for f, b in zip(r.frame_indices, r.boxes) if face_matches_head(b, head[f])}
        for r in results
    }
    frames = np.flatnonzero(visible)
    stretches = np.split(frames, np.flatnonzero(np.diff(frames) > OTB_MAX_AGE + 1) + 1)
    assert len(stretches) >= 2  # the turn-aways split the sequence
    for stretch in stretches:
        if len(stretch) < 20:
            continue  # a glimpse between turns: too short to judge a tracker by
        wanted = set(stretch.tolist())
        best = max(len(wanted & c) for c in covered.values())
        assert best >= 0.8 * len(wanted), f"frames {stretch[0]}-{stretch[-1]}: one track covers {best}/{len(wanted)}"
    union = set().union(*covered.values())
    assert len(union) >= 0.95 * visible.sum()


# -- the arcade video --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def arcade(shared_data):
    source = open_source(shared_data / "videos" / "arcade_walkers_1080p.mp4", max_frames=60)
    frames, stamps = zip(*source)
    recorder = RecordingDetector(make_detector("yunet", max_side=960))
    # finalise=False: these tests hold the tracker and store's bookkeeping (every confirmed track
    # comes back once); merging and dropping after close are tests/test_persons_videos.py's.
    # consensus_finalists=0 (explicit, whatever the default): the subject is the score contract,
    # the best-scored observation kept; the consensus pick is test_arcade_consensus_pick_...'s.
    selector = Selector(recorder, LaplacianVarianceScorer(), mode="exhaustive", thumbnails=0, finalise=False,
                        consensus_finalists=0)
    results, open_before_flush, flushed = run(selector, frames, stamps)
    return frames, recorder.found, selector, results, open_before_flush, flushed


@pytest.mark.slow
def test_arcade_every_snapshot_is_the_best_observation_of_its_track(arcade):
    frames, found, _, results, _, _ = arcade
    assert len(results) >= 5  # several people walk through
    for r in results:
        assert len(r.qualities) == len(r.frame_indices) == len(r.boxes) >= 3
        first_best = int(np.argmax(r.qualities))  # argmax takes the earliest on ties, as the store does
        assert r.best.quality == r.qualities[first_best]
        assert r.best.frame_index == r.frame_indices[first_best]
        assert np.array_equal(r.best.box, r.boxes[first_best])
        # The box is one the detector found on that frame, and the crop is that frame's pixels.
        assert any(np.array_equal(r.best.box, b) for b in found[r.best.frame_index].boxes)
        h, w = r.best.crop.shape[:2]
        x1, y1 = int(max(0, np.floor(r.best.box[0] - 0.25 * (r.best.box[2] - r.best.box[0])))), int(
            max(0, np.floor(r.best.box[1] - 0.25 * (r.best.box[3] - r.best.box[1]))))
        assert np.array_equal(r.best.crop, frames[r.best.frame_index][y1:y1 + h, x1:x1 + w])


@pytest.mark.slow
def test_arcade_consensus_pick_keeps_a_detected_face_among_its_tracks_16_best(arcade):
    """The same detections replayed with ``consensus_finalists=16``: the same tracks, each keeping
    one of its 16 best-scored observations with its full score, a box the detector found on that
    frame and that frame's pixels; and on some tracks another frame than the best-scored one."""
    frames, found, _, results, _, _ = arcade
    selector = Selector(ReplayDetector(found), LaplacianVarianceScorer(), mode="exhaustive", thumbnails=0,
                        finalise=False, consensus_finalists=16)
    on, _, _ = run(selector, frames)
    assert sorted(r.track_id for r in on) == sorted(r.track_id for r in results)
    moved = 0
    for r, off in zip(sorted(on, key=lambda r: r.track_id), sorted(results, key=lambda r: r.track_id)):
        k = int(np.flatnonzero(r.frame_indices == r.best.frame_index)[0])
        assert r.best.quality == r.qualities[k] and np.array_equal(r.best.box, r.boxes[k])
        assert r.best.quality >= np.sort(r.qualities)[-min(16, len(r.qualities))]
        assert any(np.array_equal(r.best.box, b) for b in found[r.best.frame_index].boxes)
        x1 = int(max(0, np.floor(r.best.box[0] - 0.25 * (r.best.box[2] - r.best.box[0]))))
        y1 = int(max(0, np.floor(r.best.box[1] - 0.25 * (r.best.box[3] - r.best.box[1]))))
        h, w = r.best.crop.shape[:2]
        assert np.array_equal(r.best.crop, frames[r.best.frame_index][y1:y1 + h, x1:x1 + w])
        moved += r.best.frame_index != off.best.frame_index
    assert moved > 0


@pytest.mark.slow
def test_arcade_no_track_is_lost_at_the_end_of_the_stream(arcade):
    """Every track the tracker confirms, run independently on the same detections, comes back
    exactly once; the tracks still open at the end come back from flush."""
    frames, found, selector, results, open_before_flush, flushed = arcade
    assert open_before_flush >= 3 and len(flushed) == open_before_flush
    # Open at the end: seen within the last max_age (10) frames.
    assert all(r.last_frame >= len(frames) - 1 - 10 for r in flushed)
    ids = [r.track_id for r in results]
    assert len(ids) == len(set(ids))
    tracker = facesel.Tracker(min_hits=3, max_age=10, predict_motion=False)
    confirmed = set()
    for dets in found:
        boxes = dets.boxes
        side = np.minimum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
        update = tracker.update(np.ascontiguousarray(boxes[side >= selector.config.min_face_size]))
        confirmed |= set(update.track_ids[update.confirmed].tolist())
    assert set(ids) == confirmed
    assert selector.held_observations == 0 and selector.open_tracks == 0


# -- the selfie video ---------------------------------------------------------------------------


def sharpness(frame: np.ndarray, box: np.ndarray) -> float:
    """Variance of the Laplacian of the face box at native resolution, resized to 128x128: an
    independent check, not the scorer's 64x64 aligned crop (the evaluation's
    :func:`facesel.eval.track_native.laplacian_128`, which the benchmark's selfie rows use too)."""
    from facesel.eval.track_native import laplacian_128

    return laplacian_128(frame, box)


def assert_each_long_track_picks_sharper_than_its_median(results, frames) -> None:
    """Each track of at least 10 frames kept a frame sharper (at native resolution) than its median one."""
    long_tracks = [r for r in results if len(r.frame_indices) >= 10]
    assert long_tracks
    for r in long_tracks:
        scores = np.array([sharpness(frames[f], b) for f, b in zip(r.frame_indices, r.boxes)])
        chosen = sharpness(frames[r.best.frame_index], r.best.box)
        assert chosen > np.median(scores), f"track {r.track_id}: chosen {chosen:.1f}, median {np.median(scores):.1f}"


@pytest.fixture(scope="module")
def selfie(shared_data):
    """(frames, timestamps, detections) of the selfie video, one frame in two."""
    source = open_source(shared_data / "videos" / "selfie_motion_blur_portrait.mp4", every=2)
    frames, stamps = zip(*source)
    detector = make_detector("yunet", max_side=640)
    return frames, stamps, [detector.detect(f) for f in frames]


@pytest.mark.slow
@pytest.mark.parametrize(
    "scorer_name, settings",
    [
        pytest.param(
            "laplacian", {"consensus_finalists": 0}, id="laplacian-consensus-off",
            marks=pytest.mark.xfail(
                strict=True,
                reason="align_face pads with BORDER_REPLICATE: where the face is cut by the frame edge the "
                "64x64 crop gets streaks whose edges the Laplacian rewards (track 1 picks frame ~21, "
                "not the sharp frame ~45). A black constant border fails too (it adds its own edge); a "
                "sharpness measure that ignores pixels outside the frame would be the fix (or the consensus "
                "pick's native-frame gate, on by default: the laplacian-default case).",
            ),
        ),
        pytest.param("laplacian", {}, id="laplacian-default"),
        pytest.param("default", {}, id="default"),
    ],
)
def test_selfie_chosen_frame_is_sharper_than_the_track_median(selfie, scorer_name, settings):
    """With the baseline scorer this checks the wiring (a related measure on another crop); with
    the package's default scorer and settings it checks the product's choice."""
    frames, stamps, found = selfie
    scorer = LaplacianVarianceScorer() if scorer_name == "laplacian" else default_scorer()
    selector = Selector(ReplayDetector(found), scorer, mode="exhaustive", **settings)
    results, _, _ = run(selector, frames, stamps)
    assert_each_long_track_picks_sharper_than_its_median(results, frames)


OLD_CONSENSUS = {"consensus_signature": "edges", "consensus_reference": "mean", "consensus_gate": "off"}
"""Session 9's consensus pick: the Sobel edge image against the track's mean, no sharpness gate."""


@pytest.mark.slow
@pytest.mark.parametrize(
    "finalists, settings",
    [
        pytest.param(16, OLD_CONSENSUS, id="edges-mean-16", marks=pytest.mark.xfail(
            strict=True, reason="the consensus pick alone keeps the frame most like its track's average, and in "
            "this motion-blurred video the typical frame is a blurred one: chosen 49.2 against a median 59.0 "
            "(track 1) and 47.7 against 53.7 (track 2), against 90.5 and 144.2 without it (docs/model_card.md); "
            "no signature or reference fixed it (experiments/pick_consensus_robust.py), the native-frame gate does")),
        pytest.param(16, {}, id="default-consensus-16"),
        pytest.param(32, {}, id="default-consensus-32"),
    ],
)
def test_selfie_consensus_pick_is_sharper_than_the_track_median(selfie, finalists, settings):
    """The consensus pick's defaults (orientation histograms against the track's median, among the
    finalists at least as sharp in their own frame as the track's median crop, measured by
    facesel.scoring.native_blur's gradient energy, not by this test's Laplacian) keep a sharper
    frame than the median; session 9's rule did not."""
    frames, stamps, found = selfie
    selector = Selector(ReplayDetector(found), default_scorer(), mode="exhaustive", consensus_finalists=finalists,
                        **settings)
    results, _, _ = run(selector, frames, stamps)
    assert_each_long_track_picks_sharper_than_its_median(results, frames)


@pytest.mark.slow
@pytest.mark.parametrize(
    "settings",
    [
        pytest.param({}, id="default"),
        pytest.param({"consensus_finalists": 0}, id="consensus-off-context-rule", marks=pytest.mark.xfail(
            strict=True, reason="without the consensus pick (the default before issue 22's switch) the context "
            "rule keeps a frame of track 2 at 31.3 against its median 53.9 in the sparse mode (90.5 and 144.2 in "
            "the exhaustive mode); the consensus pick's gate keeps 83.3 and 108.3 (docs/model_card.md)")),
    ],
)
def test_selfie_sparse_mode_pick_is_sharper_than_the_track_median(shared_data, settings):
    """The product's own mode (sparse: full-frame detection on a schedule, regions in between, the
    screen's finalists), YuNet at 640 pixels on one frame in two: with the default settings (the
    consensus pick: 32 finalists, orientation histograms against the track's median, the native
    sharpness gate) each long track keeps a frame sharper than its median."""
    source = open_source(shared_data / "videos" / "selfie_motion_blur_portrait.mp4", every=2)
    frames, stamps = zip(*source)
    selector = Selector(make_detector("yunet", max_side=640), default_scorer(), mode="sparse", **settings)
    results, _, _ = run(selector, frames, stamps)
    assert_each_long_track_picks_sharper_than_its_median(results, frames)
