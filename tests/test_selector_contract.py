"""Contracts of the Selector on frames made inside the test (no shared data needed, fast).

The frames are dark with bright square "faces" that move; the detector finds bright squares in
any image it is given (a whole frame or a region around a track), so the sparse mode's region
search runs for real. The scorer's quality is the crop's mean brightness, which the test sets
frame by frame, so the best frame of each face is known in advance.
"""

from __future__ import annotations

import threading
import time

import cv2
import numpy as np
import pytest
from facesel import Selector
from facesel.cli import build_parser
from facesel.cli.run import NOT_FLAGS
from facesel.config import PipelineConfig, defaults, from_arguments
from facesel.select import FrameView
from facesel.sinks import CallbackSink
from facesel.types import Detections

H, W = 240, 320


class SquareDetector:
    """Bright squares (> 60 grey) on a dark image -> boxes with landmarks at fixed places."""

    def __init__(self):
        self.calls = 0

    def detect(self, image: np.ndarray) -> Detections:
        self.calls += 1
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        count, _, stats, _ = cv2.connectedComponentsWithStats((grey > 60).astype(np.uint8))
        boxes = [(x, y, x + w, y + h) for x, y, w, h, area in stats[1:count] if area >= 25]
        if not boxes:
            return Detections.empty()
        boxes = np.array(boxes, np.float32)
        rel = np.array([[0.3, 0.4], [0.7, 0.4], [0.5, 0.6], [0.35, 0.8], [0.65, 0.8]], np.float32)
        size = boxes[:, 2:] - boxes[:, :2]
        marks = boxes[:, None, :2] + rel[None] * size[:, None, :]
        return Detections(boxes, np.full(len(boxes), 0.9, np.float32), marks)


class BrightnessScorer:
    """Quality = mean grey level; ``screen`` the same plus a small fixed error. Counts its crops."""

    def __init__(self, with_screen: bool = True):
        self.scored = 0
        self.screened = 0
        if not with_screen:
            self.screen = None

    def score(self, crops):
        self.scored += len(crops)
        return crops.reshape(len(crops), -1).mean(axis=1).astype(np.float64)

    def screen(self, crops, context=None):
        self.screened += len(crops)
        return crops.reshape(len(crops), -1).mean(axis=1).astype(np.float64) + 0.5


def brightness(k: int, peak: int) -> int:
    """Rises to ``peak`` and falls after it; two frames in three dip by 15 or 30 grey levels."""
    return int(250 - 2 * abs(k - peak) - 15 * ((k - peak) % 3))


def scene(count: int = 60):
    """Frames with face A (from frame 0, brightest at 30) and face B (from frame 20, brightest at
    45), each moving 2 px a frame; plus the expected best frame of each."""
    frames = []
    for k in range(count):
        frame = np.zeros((H, W, 3), np.uint8)
        ax = 20 + 2 * k
        frame[60:100, ax:ax + 40] = brightness(k, 30)
        if k >= 20:
            bx = 260 - 2 * (k - 20)
            frame[150:186, bx:bx + 36] = brightness(k, 45)
        frames.append(frame)
    return frames, {"A": 30, "B": 45}


def run(selector, frames):
    views = [selector.feed(f, k / 25.0) for k, f in enumerate(frames)]
    return views, [r for v in views for r in v.closed] + selector.flush()


def make(mode="sparse", scorer=None, detector=None, **settings):
    return Selector(detector or SquareDetector(), scorer or BrightnessScorer(), mode=mode, threads=1, **settings)


def test_sparse_mode_keeps_the_exhaustive_choice_with_less_work():
    frames, best = scene()
    results = {}
    # The subject is the score contract (the best-scored crop, the same in both modes), so the
    # consensus pick is off: these flat squares all agree with their track's average to within
    # 1e-5, so among them it is decided by sub-pixel alignment, not by the picture (its sparse
    # versus exhaustive agreement is checked on real video, tests/test_sparse_vs_exhaustive.py).
    for mode in ("exhaustive", "sparse"):
        scorer, detector = BrightnessScorer(), SquareDetector()
        sel = make(mode, scorer, detector, detect_every=6, consensus_finalists=0)
        _, results[mode] = run(sel, frames)
        results[mode + "-work"] = (sel.work, scorer.scored, scorer.screened)
    assert len(results["sparse"]) == len(results["exhaustive"]) == 2
    assert sorted(r.best.frame_index for r in results["sparse"]) == [best["A"], best["B"]]
    assert sorted(r.best.frame_index for r in results["exhaustive"]) == [best["A"], best["B"]]
    # The kept crop carries its full score (the screen reads 0.5 higher), as in the exhaustive mode.
    assert sorted(r.best.quality for r in results["sparse"]) == sorted(r.best.quality for r in results["exhaustive"])
    work, scored, screened = results["sparse-work"]
    work_all, scored_all, screened_all = results["exhaustive-work"]
    assert screened_all == 0 and scored_all == work_all["seen"] == 100  # exhaustive: every face, fully
    assert work["seen"] == 96  # B, from frame 20, is found at the full detection of frame 24
    assert work["full_detections"] == int(np.ceil(len(frames) / 6))
    assert work["regions"] > 0
    assert screened == work["screened"] == work["seen"]  # every crop screened (screen_every 1) ...
    assert scored == work["scored"] == 2 * sel.config.finalists  # ... and each track's finalists scored


def test_the_consensus_pick_fully_scores_its_finalists_once():
    """With the consensus pick (``consensus_finalists=16``) the sparse mode still screens every crop
    once and fully scores each track's 16 finalists once, on close; the kept crop is one of them."""
    frames, _ = scene()
    scorer = BrightnessScorer()
    sel = make("sparse", scorer, SquareDetector(), detect_every=6, consensus_finalists=16)
    assert sel.config.kept_finalists == 16
    _, results = run(sel, frames)
    assert scorer.screened == sel.work["screened"] == sel.work["seen"] == 96
    assert scorer.scored == sel.work["scored"] == 2 * 16
    for r in results:  # the kept crop carries its full score, one of the 16 best (the screen reads 0.5 higher)
        assert r.best is r.top[0] and r.best.quality <= max(c.quality for c in r.candidates)
        assert r.best.quality + 0.5 >= np.sort(r.qualities)[-16]


class ContextScreenScorer(BrightnessScorer):
    """A screen from the context alone (``screen_context``), as PickScorer's: the box's bottom
    edge, i.e. how low the face is in the frame. Counts the crops it was shown."""

    def screen(self, crops, context=None):
        self.screened += len(crops)
        return self.lowness(context)

    def screen_context(self, context):
        return self.lowness(context)

    @staticmethod
    def lowness(context):
        return context.boxes[:, 3].astype(np.float64) + context.det_scores.astype(np.float64)


def test_a_context_screen_is_taken_before_aligning_and_only_finalists_are_aligned():
    """Same results as screening aligned crops (the scorer's screen_context hidden), with crops
    aligned only when they join a track's finalists."""
    frames = scene()[0]
    for k, frame in enumerate(frames):  # faces that sink, then rise: new finalists early and late
        frames[k] = np.roll(frame, int(20 * np.sin(k / 9.0)), axis=0)
    runs = {}
    for name, hide in (("screen first", False), ("aligned first", True)):
        scorer = ContextScreenScorer()
        if hide:
            scorer.screen_context = None  # not callable: the stage aligns, then screens
        # the consensus pick off: it keeps 32 finalists a track (73 of these 96 crops would be
        # aligned) and its reference is made of the crops aligned, which differ by design here
        sel = make(scorer=scorer, detect_every=6, consensus_finalists=0)
        views, results = run(sel, frames)
        runs[name] = (sel, views, results, scorer)
    fast, slow = runs["screen first"], runs["aligned first"]
    assert fast[0]._score.screen_first and not slow[0]._score.screen_first
    key = [(r.track_id, r.best.frame_index, r.best.quality, r.frame_indices.tolist(), r.qualities.tolist())
           for r in fast[2]]
    assert key == [(r.track_id, r.best.frame_index, r.best.quality, r.frame_indices.tolist(), r.qualities.tolist())
                   for r in slow[2]]
    assert [[(t.track_id, t.quality, t.best_quality, t.scored) for t in v.tracks] for v in fast[1]] == \
           [[(t.track_id, t.quality, t.best_quality, t.scored) for t in v.tracks] for v in slow[1]]
    fast_work, slow_work = fast[0].work, slow[0].work
    assert fast_work["screened"] == slow_work["screened"] == slow_work["aligned"] == slow_work["seen"]
    assert fast_work["aligned"] < 0.6 * slow_work["aligned"], (fast_work, slow_work)
    assert fast[3].screened == 0  # the screen never needed a crop
    assert fast_work["aligned"] >= fast_work["scored"]  # every finalist rescored was aligned


def test_a_new_face_is_found_at_the_next_full_detection():
    frames, _ = scene()
    _, results = run(make(detect_every=8), frames)
    newcomer = max(results, key=lambda r: r.first_frame)
    assert 20 <= newcomer.first_frame <= 24  # B appears at 20; full detections at 0, 8, 16, 24


def test_a_scene_change_brings_the_full_detection_forward():
    frames, _ = scene()
    frames[33] = 255 - frames[33]  # the whole picture changes (e.g. lights, another camera)
    sel = make(detect_every=50, scene_change=30.0)
    views, _ = run(sel, frames)
    assert views[33].full_detection and not views[32].full_detection
    assert sel.work["scene_changes"] >= 1


def test_frame_view_lists_the_tracks_in_view():
    frames, _ = scene(30)
    # A track is cold when its last value would not have made its kept finalists: with the
    # consensus pick's 16, a 30-frame track whose values rise never goes cold, so the cadence is
    # shown with the 3 finalists of the score alone (the consensus pick's is checked below).
    sel = make(detect_every=4, screen_every=2, consensus_finalists=0)
    views, _ = run(sel, frames)
    assert all(isinstance(v, FrameView) for v in views)
    assert [v.frame_index for v in views] == list(range(30))
    assert len(views[0].tracks) == 1 and len(views[25].tracks) == 2
    first = views[0].tracks[0]
    assert first.scored and first.quality == first.best_quality  # a track's first crop is always scored
    assert not first.confirmed and views[2].tracks[0].confirmed  # min_hits = 3
    a = [next(t for t in v.tracks if t.track_id == first.track_id) for v in views]
    assert all(t.box[0] == pytest.approx(20 + 2 * k, abs=1.0) for k, t in enumerate(a))
    looked = np.flatnonzero([t.scored for t in a])
    assert len(looked) < len(a) and np.diff(looked).max() == 2  # cold frames: one in two
    best = [t.best_quality for t in a]
    assert best == sorted(best)  # the best so far never falls
    wide_views, _ = run(make(detect_every=4, screen_every=2, consensus_finalists=16), frames)
    b = [next(t for t in v.tracks if t.track_id == first.track_id) for v in wide_views]
    assert all(t.scored for t in b[:16])  # the first 16 values all make the 16 finalists
    assert sum(t.scored for t in b) > len(looked)


def test_a_scorer_without_screen_scores_every_candidate():
    frames, best = scene()
    for consensus_finalists in (16, 0):  # the consensus pick, then the best-scored crop alone
        scorer = BrightnessScorer(with_screen=False)
        sel = make(scorer=scorer, consensus_finalists=consensus_finalists)
        _, results = run(sel, frames)
        assert sel.work["screened"] == 0 and scorer.scored == sel.work["scored"] == sel.work["seen"]
    # The best-scored crop (the consensus pick among these flat squares is decided by sub-pixel
    # alignment: see test_sparse_mode_keeps_the_exhaustive_choice_with_less_work).
    assert sorted(r.best.frame_index for r in results) == [best["A"], best["B"]]


def test_gates_never_leave_a_track_without_a_result():
    frames, _ = scene()
    sel = make(min_score_side=1000.0)  # every face is below the gate
    _, results = run(sel, frames)
    assert len(results) == 2 and sel.work["scored"] == 2  # the first crop of each track only
    assert sel.work["gated"] > 0


@pytest.mark.parametrize("consensus_finalists", [0, 16])
@pytest.mark.parametrize("thread_safe", [True, False])
@pytest.mark.parametrize("detect_ahead", [True, False])
def test_threaded_run_gives_what_feed_gives(detect_ahead, thread_safe, consensus_finalists):
    """Full-frame detections started ahead of tracking (only for a detector marked thread_safe)
    change nothing in what comes out. With the consensus pick too: these flat squares' agreements
    tie to 1e-12, so any rounding that depends on the thread or on memory shows here (it kept frame
    36 threaded and 24 fed before facesel.scoring.consensus was made deterministic)."""
    frames, _ = scene()
    feed_views, feed_results = run(make(consensus_finalists=consensus_finalists), frames)
    detector = SquareDetector()
    detector.thread_safe = thread_safe
    sel = Selector(detector, BrightnessScorer(), threads=2, queue_size=2, detect_ahead=detect_ahead,
                   consensus_finalists=consensus_finalists)
    views = list(sel.run((f, k / 25.0) for k, f in enumerate(frames)))
    ahead = detect_ahead and thread_safe
    assert sel.work["full_ahead"] == (sel.work["full_detections"] if ahead else 0) and sel.work["full_detections"] > 1
    results = [r for v in views for r in v.closed] + sel.flush()
    assert [v.frame_index for v in views] == list(range(len(frames)))
    assert [(r.track_id, r.best.frame_index, r.best.quality) for r in results] == \
           [(r.track_id, r.best.frame_index, r.best.quality) for r in feed_results]
    assert [[t.scored for t in v.tracks] for v in views] == [[t.scored for t in v.tracks] for v in feed_views]


def test_leaving_a_threaded_run_early_stops_its_threads():
    # The threads this run started, not a count of all threads: a thread another test left ending
    # (a server's, a camera's) meanwhile changed the count with no thread of this run alive.
    frames, _ = scene()
    before = set(threading.enumerate())
    sel = Selector(SquareDetector(), BrightnessScorer(), threads=2, queue_size=1)
    for view in sel.run((f, k / 25.0) for k, f in enumerate(frames)):
        if view.frame_index == 5:
            assert [t for t in threading.enumerate() if t not in before]  # the run's stage threads
            break
    assert [t.name for t in threading.enumerate() if t not in before] == []


def test_a_failing_stage_raises_from_the_threaded_run():
    class Broken(SquareDetector):
        def detect(self, image):
            if self.calls == 7:
                raise RuntimeError("detector fell over")
            return super().detect(image)

    frames, _ = scene()
    sel = Selector(Broken(), BrightnessScorer(), threads=2, detect_every=1)
    with pytest.raises(RuntimeError, match="fell over"):
        for _ in sel.run((f, k / 25.0) for k, f in enumerate(frames)):
            pass


def test_post_close_stages_run_before_the_sinks_and_may_hold_results():
    class HoldOneFrame:
        def __init__(self):
            self.held = []

        def process(self, closed, now):
            out, self.held = self.held, list(closed)
            return out

        def flush(self):
            out, self.held = self.held, []
            return out

    frames, _ = scene()
    frames += [np.zeros((H, W, 3), np.uint8)] * 20  # everyone leaves: the tracks close on the way
    written, ticks = [], []

    class Recorder(CallbackSink):
        def tick(self, now):
            ticks.append(now)

    sel = make(post_close=[HoldOneFrame()], sinks=[Recorder(written.append)])
    views, results = run(sel, frames)
    assert sum(len(v.closed) for v in views) == 2 and len(results) == 2 and written == results
    assert len(ticks) == len(frames) + 1  # every frame, and the flush
    # Each result reaches the sinks one frame after its track closed.
    for view in views:
        for r in view.closed:
            assert view.frame_index == r.last_frame + sel.config.max_age + 2


def test_every_setting_is_a_run_flag_with_the_same_default():
    parser = build_parser()._subparsers._group_actions[0].choices["run"]
    args = parser.parse_args(["video.mp4"])
    config = from_arguments(args, exclude=NOT_FLAGS)
    assert config == PipelineConfig()
    for name, default in defaults().items():
        if name not in NOT_FLAGS:
            assert getattr(args, name) == default, name
    args = parser.parse_args(["video.mp4", "--mode", "exhaustive", "--detect-every", "3", "--predict-motion"])
    config = from_arguments(args, exclude=NOT_FLAGS)
    assert (config.mode, config.detect_every, config.predict_motion) == ("exhaustive", 3, True)
    with pytest.raises(ValueError, match="detect_every"):
        PipelineConfig(detect_every=0)


def test_agreement_ranks_a_kept_crop_within_its_matching_exhaustive_track():
    from types import SimpleNamespace

    from facesel.select.agreement import agreement

    def track(frames, x, qualities, best_quality):
        boxes = np.array([[x, 0, x + 10, 10]] * len(frames), np.float32)
        return SimpleNamespace(frame_indices=np.array(frames), boxes=boxes, qualities=np.array(qualities, float),
                               best=SimpleNamespace(quality=best_quality))

    reference = [track(range(10), 0, np.arange(10.0), 9.0), track(range(10), 100, np.zeros(10), 0.0)]
    results = [track([2, 3], 0, [2.0, 3.0], 8.0),   # left face, kept crop scores 8: one of 10 above
               track([5], 100, [0.0], 0.0),          # right face, as good as its best
               track([4], 300, [1.0], 1.0)]          # nowhere in the reference
    a = agreement(results, reference)
    assert a.tracks == 3 and a.reference_tracks == 2 and a.unmatched == 1
    assert a.ranks.tolist() == [0.1, 0.0]
    assert a.share_within(0.1) == pytest.approx(2 / 3) and a.share_within(0.05) == pytest.approx(1 / 3)


def test_agreement_by_frame_ranks_the_reference_score_of_the_kept_frame():
    """A context-reading scorer gives the same face another value on a region detection: by
    frame, the kept frame is ranked by the reference's own score of it."""
    from types import SimpleNamespace

    from facesel.select.agreement import agreement

    boxes = np.array([[0, 0, 10, 10]] * 10, np.float32)
    reference = [SimpleNamespace(frame_indices=np.arange(10), boxes=boxes, qualities=np.arange(10.0))]
    kept_on = {7: 0.5, 12: 8.5}  # frame 7 (reference score 7: two above) kept with a low own value
    results = [SimpleNamespace(frame_indices=np.array([6, 7, 8]), boxes=boxes[:3], qualities=np.zeros(3),
                               best=SimpleNamespace(quality=kept_on[7], frame_index=7)),
               SimpleNamespace(frame_indices=np.array([8, 9]), boxes=boxes[:2], qualities=np.zeros(2),
                               best=SimpleNamespace(quality=kept_on[12], frame_index=12))]  # frame unseen there
    assert agreement(results, reference).ranks.tolist() == [0.9, 0.1]
    assert agreement(results, reference, by="frame").ranks.tolist() == [0.2, 0.1]
    with pytest.raises(ValueError, match="by must be"):
        agreement(results, reference, by="score")


def test_a_slow_consumer_makes_the_threaded_stages_wait_not_queue_up():
    """Bounded queues: however long the caller dwells on a frame, the reader and the detection
    stage run at most a few frames ahead (two queues of queue_size, plus one in each hand)."""
    frames, _ = scene()
    pulled = []

    def source():
        for k, frame in enumerate(frames):
            pulled.append(k)
            yield frame, k / 25.0

    sel = Selector(SquareDetector(), BrightnessScorer(), threads=2, queue_size=2)
    stream = sel.run(source())
    next(stream)
    time.sleep(0.5)  # ample time for unbounded stages to read the whole scene
    assert len(pulled) <= 1 + 2 * 2 + 3
    stream.close()


class _BufferedCamera:
    """A live camera: a thread makes frames at its own rate into the capture's buffer, which
    iterating reads in order (as OpenCV's capture does); ``made`` counts the frames made."""

    kind = "camera"

    def __init__(self, frames, interval: float):
        self.frames, self.interval = frames, interval
        self.buffer: list = []
        self.made = 0
        self.done = threading.Event()

    def _make(self):
        for k in range(len(self.frames)):
            self.buffer.append((self.frames[k], float(k)))
            self.made = k + 1
            time.sleep(self.interval)
        self.done.set()

    def __iter__(self):
        threading.Thread(target=self._make, daemon=True).start()
        read = 0
        while not (self.done.is_set() and read == len(self.buffer)):
            if read < len(self.buffer):
                read += 1
                yield self.buffer[read - 1]
            else:
                time.sleep(self.interval / 4)


@pytest.mark.parametrize("threads", [1, 2])
def test_a_live_source_drops_its_oldest_frames_instead_of_lagging(threads):
    """A camera faster than the pipeline: read live, the frame processed stays within a few
    frames of the newest one made and the frames skipped are counted; read as a file (waiting
    for the pipeline), the same camera's frames are processed ever later."""
    frames, _ = scene()
    frames = frames * 4  # long enough that a file read lags ever more while a live read does not
    lags, outcome = {}, {}
    for live in (True, False):
        camera = _BufferedCamera(frames, interval=0.002)
        sel = Selector(SquareDetector(), BrightnessScorer(), threads=threads, queue_size=2)
        views = []
        lag = []
        with sel:
            for view in sel.run(camera, live=None if live else False):
                lag.append(camera.made - 1 - int(view.timestamp))
                views.append(view)
                # A slow back half: 5 camera frames go by per processed frame. Counted, not slept: a
                # fixed 10 ms against the camera's 2 ms holds on a quiet machine, but on a loaded one
                # the camera's thread may be starved until it is no faster than the pipeline.
                made = camera.made
                while camera.made < made + 5 and not camera.done.is_set():
                    time.sleep(0.001)
        lags[live] = float(np.median(lag))  # the typical lag (a loaded machine may stall a thread once)
        outcome[live] = (len(views), sum(v.dropped for v in views), sel.dropped, sel.timings["dropped"], views)
    processed, dropped_views, dropped, dropped_timing, views = outcome[True]
    assert dropped > 0 and dropped == dropped_views == dropped_timing
    assert processed + dropped == len(frames)  # every frame made is either processed or counted
    stamps = [v.timestamp for v in views]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)  # in order, none twice
    assert outcome[False][1] == outcome[False][2] == 0 and outcome[False][0] == len(frames)
    assert lags[True] * 3 < lags[False]
