"""facesel.Selector on real frames: contracts, bad input, broken streams, bounded memory.

The frames are the Intel head-pose clip (one woman turning her head, 23 frames, 480x270). Where a
test replays a long stream, the detections are the detector's real output on those frames,
recorded once and replayed, so the test spends its time in the Selector and not in the detector.
"""

from __future__ import annotations

import logging

import facesel
import numpy as np
import pytest
from facesel import Selector, scoring
from facesel.align import align_face
from facesel.detect import YuNetDetector
from facesel.scoring import LaplacianVarianceScorer
from facesel.scoring.consensus import TrackConsensus
from facesel.scoring.native_blur import native_sharpness
from facesel.sinks import CallbackSink, VaultSink
from facesel.select.tracklog import DecimatedSeries, SelectedTrack
from facesel.types import Detections, TrackResult
from facesel.video import open_source


class ReplayDetector:
    """Hands back recorded detections in order (one per ``detect`` call), cycling through them."""

    def __init__(self, detections: list[Detections]):
        self.detections = detections
        self.calls = 0

    def detect(self, frame: np.ndarray) -> Detections:
        dets = self.detections[self.calls % len(self.detections)]
        self.calls += 1
        return dets


@pytest.fixture(scope="module")
def head_pose(shared_data):
    """(frames, timestamps, detections) of the head-pose clip."""
    source = open_source(shared_data / "videos" / "intel_head_pose_female.gif")
    frames, stamps = zip(*source)
    detector = YuNetDetector()
    detections = [detector.detect(f) for f in frames]
    return list(frames), list(stamps), detections


def replay(detections, scorer, **settings) -> Selector:
    """A Selector on recorded detections: the exhaustive mode, since the replay hands out one
    frame's detections per call (the sparse mode's region searches are tested in
    test_selector_contract.py on frames made in the test)."""
    return Selector(ReplayDetector(detections), scorer, mode="exhaustive", **settings)


def run(selector: Selector, frames, stamps=None) -> list[SelectedTrack]:
    results = []
    for k, frame in enumerate(frames):
        results += selector.feed(frame, None if stamps is None else stamps[k]).closed
    return results + selector.flush()


def test_one_person_gives_one_result_with_its_best_observation(head_pose):
    frames, stamps, detections = head_pose
    # The subject is the score contract (the best-scored crop is kept): the consensus pick, which
    # chooses among the 16 best by another criterion, is off here (explicitly, whatever the
    # default) and tested just below.
    sel = replay(detections, LaplacianVarianceScorer(), consensus_finalists=0)
    results = run(sel, frames, stamps)
    assert len(results) == 1
    r = results[0]
    assert isinstance(r, TrackResult)
    detected = [k for k, d in enumerate(detections) if len(d) > 0]
    assert r.first_frame == detected[0] and r.last_frame == detected[-1]
    assert r.first_timestamp == pytest.approx(stamps[r.first_frame])
    assert r.last_timestamp == pytest.approx(stamps[r.last_frame])
    assert np.array_equal(r.frame_indices, detected)  # short track: nothing decimated
    assert r.qualities.dtype == np.float64 and r.frame_indices.dtype == np.int64
    best = int(np.argmax(r.qualities))
    assert r.best.frame_index == r.frame_indices[best]
    assert r.best.quality == r.qualities[best]
    assert np.allclose(r.best.box, detections[r.best.frame_index].boxes[0])
    assert np.allclose(r.boxes[best], r.best.box)
    assert r.best.crop.dtype == np.uint8 and r.best.crop.ndim == 3 and r.best.crop.shape[2] == 3
    assert r.best.timestamp == pytest.approx(stamps[r.best.frame_index])
    assert r.best.track_id == r.track_id
    assert r.best.landmarks.shape == (5, 2)
    assert r.best.clip == [] and r.best.clip_frame_indices == []
    assert sel.held_observations == 0 and sel.open_tracks == 0 and sel.closed_tracks == 1
    t = sel.timings
    assert t["frames"] == len(frames)
    assert set(t) >= {"detection", "tracking", "alignment", "screening", "scoring", "selection", "sinks", "total"}
    assert all(v >= 0 for v in t.values())


@pytest.mark.parametrize("rule", [("edges", "mean", "off"), ("hog", "median", "gradient")],
                         ids=["edges-mean (session 9)", "hog-median-gated (default of the consensus pick)"])
def test_the_consensus_pick_keeps_the_best_scored_crop_that_agrees_most_with_its_track(head_pose, rule):
    """The consensus pick (``consensus_finalists=16``), recomputed here from the frames: of the
    track's 16 best-scored crops (with the gate: those at least as sharp in their frame as the
    track's median crop), the one whose signature agrees most with the reference of all its
    aligned crops (exhaustive mode: every crop is aligned); the not-a-face vote's candidates are
    unchanged."""
    signature, reference, gate = rule
    settings = {"consensus_signature": signature, "consensus_reference": reference, "consensus_gate": gate}
    frames, stamps, detections = head_pose
    [off] = run(replay(detections, LaplacianVarianceScorer(), consensus_finalists=0), frames, stamps)
    [on] = run(replay(detections, LaplacianVarianceScorer(), consensus_finalists=16, **settings), frames, stamps)
    greys = {k: align_face(frames[k], detections[k].boxes[0], detections[k].landmarks[0]).grey
             for k in on.frame_indices.tolist()}
    consensus = TrackConsensus(signature, reference)
    consensus.add(np.stack(list(greys.values())))
    ranked = sorted(range(len(on.qualities)), key=lambda k: (-on.qualities[k], on.frame_indices[k]))[:16]
    agreement = consensus.scores(np.stack([greys[int(on.frame_indices[k])] for k in ranked]))
    if gate != "off":
        native = {k: native_sharpness(frames[k], detections[k].boxes[0], gate) for k in greys}
        median = np.median(list(native.values()))
        passing = np.array([native[int(on.frame_indices[k])] >= median for k in ranked])
        assert passing.any() and not passing.all()  # the gate has something to do on this clip
        agreement = np.where(passing, agreement, -np.inf)
    expected = ranked[int(np.argmax(agreement))]
    assert on.best.frame_index == on.frame_indices[expected] and on.best.quality == on.qualities[expected]
    assert on.best.frame_index != off.best.frame_index  # on this clip it is not the best-scored crop
    assert [c.frame_index for c in on.candidates] == [c.frame_index for c in off.candidates]
    assert on.top[0] is on.best and len(on.top) == 1


def test_snapshot_crop_is_the_frame_region_around_the_box(head_pose):
    frames, _, detections = head_pose
    [r] = run(replay(detections, LaplacianVarianceScorer(), margin=0.0), frames)
    x1, y1, x2, y2 = r.best.box
    frame = frames[r.best.frame_index]
    top, left = int(max(0, np.floor(y1))), int(max(0, np.floor(x1)))
    expected = frame[top:int(np.ceil(y2)), left:int(np.ceil(x2))]
    assert np.array_equal(r.best.crop, expected)


@pytest.mark.parametrize(
    "frame, error",
    [
        (None, TypeError),
        ([[1, 2, 3]], TypeError),
        (np.zeros((32, 32, 3), np.float32), TypeError),
        (np.zeros((32, 32, 4), np.uint8), ValueError),
        (np.zeros((0, 0, 3), np.uint8), ValueError),
        (np.zeros((32,), np.uint8), ValueError),
    ],
    ids=["none", "list", "float32", "four-channels", "empty", "1d"],
)
def test_bad_frames_raise_clear_errors(head_pose, frame, error):
    frames, _, detections = head_pose
    sel = replay(detections, LaplacianVarianceScorer())
    sel.feed(frames[0])
    with pytest.raises(error, match="frame"):
        sel.feed(frame)
    assert sel.frame_index == 1  # a rejected frame does not count
    sel.feed(frames[1])
    assert sel.frame_index == 2


@pytest.mark.parametrize(
    "settings, error",
    [
        ({"top_k": 0}, ValueError),
        ({"clip_window": -1}, ValueError),
        ({"min_hits": 0}, ValueError),
        ({"metric": "manhattan"}, ValueError),
        ({"min_face_size": -1.0}, ValueError),
        ({"series_capacity": 1}, ValueError),
        ({"fps": -1.0}, ValueError),
        ({"mode": "lazy"}, ValueError),
        ({"detect_every": 0}, ValueError),
        ({"screen_every": 1.5}, TypeError),
        ({"no_such_setting": 1}, TypeError),
        ({"sinks": [object()]}, TypeError),
        ({"post_close": [object()]}, TypeError),
        ({"detector": object()}, TypeError),
        ({"scorer": object()}, TypeError),
    ],
)
def test_bad_settings_raise(settings, error):
    settings = {"detector": YuNetDetector(), "scorer": LaplacianVarianceScorer(), **settings}
    with pytest.raises(error):
        Selector(**settings)


def test_bad_timestamp_and_bad_scorer_output(head_pose):
    frames, _, detections = head_pose
    sel = replay(detections, LaplacianVarianceScorer())
    with pytest.raises(ValueError, match="timestamp"):
        sel.feed(frames[0], float("nan"))

    class NaNScorer:
        def score(self, crops):
            return np.full(len(crops), np.nan)

    sel = replay(detections, NaNScorer())
    with pytest.raises(ValueError, match="NaN"):
        sel.feed(frames[0])


def test_a_poor_track_still_yields_exactly_one_result(head_pose):
    """The paper insists: a confirmed track always gives a snapshot, however bad its crops."""
    frames, _, detections = head_pose

    class HopelessScorer:
        def score(self, crops):
            return np.full(len(crops), -np.inf)

    results = run(replay(detections, HopelessScorer()), frames)
    assert len(results) == 1
    assert results[0].best.frame_index == results[0].first_frame  # all tie: the earliest wins
    assert np.isfinite(results[0].best.quality)


def test_a_stream_that_breaks_still_flushes(head_pose):
    frames, _, detections = head_pose
    got = []

    def broken_stream():
        yield from frames[:12]
        raise OSError("camera unplugged")

    sel = replay(detections, LaplacianVarianceScorer(), sinks=[CallbackSink(got.append)])
    with pytest.raises(OSError, match="unplugged"):
        with sel:
            for frame in broken_stream():
                assert sel.feed(frame).closed == []
    assert len(got) == 1 and got[0].last_frame == 11
    assert sel.held_observations == 0


def test_vault_and_callback_sinks_get_every_result_once(head_pose):
    frames, _, detections = head_pose

    class RecordingVault:
        def __init__(self):
            self.sealed = []

        def seal(self, result):
            self.sealed.append(result)
            return f"record-{len(self.sealed)}"

    vault, seen = RecordingVault(), []
    sinks = [VaultSink(vault), CallbackSink(seen.append)]
    results = run(replay(detections, LaplacianVarianceScorer(), sinks=sinks), frames)
    assert len(results) == 1 and vault.sealed == results and seen == results and sinks[0].sealed == 1


def test_timestamps_from_fps_when_none_given(head_pose):
    frames, _, detections = head_pose
    [r] = run(replay(detections, LaplacianVarianceScorer(), fps=10.0), frames)
    assert r.first_timestamp == pytest.approx(r.first_frame / 10.0)
    assert r.best.timestamp == pytest.approx(r.best.frame_index / 10.0)


@pytest.mark.parametrize("consensus_finalists", [0, 16], ids=["score", "consensus"])
def test_memory_stays_bounded_on_a_long_stream(head_pose, consensus_finalists):
    """20 passes over the clip, forwards then backwards, so that the face moves smoothly and one
    track lives for 460 frames: the crops held, the quality series and the thumbnails stay capped."""
    frames, _, detections = head_pose
    order = [k for rep in range(10) for k in (list(range(23)) + list(range(22, -1, -1)))]
    top_k, window, capacity = 2, 3, 32
    sel = replay([detections[k] for k in order], LaplacianVarianceScorer(), top_k=top_k,
                 clip_window=window, series_capacity=capacity, thumbnails=8, consensus_finalists=consensus_finalists)
    held = []
    for k in order:
        assert sel.feed(frames[k]).closed == []
        held.append(sel.held_observations)
    [r] = sel.flush()
    # The store's bound per track is kept + 3 * its clip window + 2 (facesel.BestCropStore), where
    # kept is top_k, or the consensus pick's finalists when it is on; the Selector's store holds
    # twice clip_window, so that the kept crop's own clip is whole (ux21).
    kept = max(top_k, consensus_finalists)
    assert max(held) <= kept + 3 * (2 * window) + 2
    if consensus_finalists:
        assert max(held) > top_k + 3 * (2 * window) + 2  # the wider bound is the one that binds
    assert sel.held_observations == 0
    assert r.first_frame == 0 and r.last_frame == len(order) - 1
    assert 8 <= len(r.qualities) <= capacity and len(r.frame_indices) == len(r.qualities) == len(r.boxes)
    assert np.all(np.diff(r.frame_indices) > 0)
    assert r.frame_indices[-1] > 0.75 * len(order)  # spread over the whole track, not just its start
    if consensus_finalists == 0:  # the score contract: the best-scored crop is kept
        assert r.best.quality == r.qualities.max()
        assert [s.quality for s in r.top] == sorted((s.quality for s in r.top), reverse=True)
    else:  # the consensus pick: one of the 16 best by score; the rest of top as ranked by score
        assert r.best.quality >= np.sort(r.qualities)[-consensus_finalists]
        assert [s.quality for s in r.top[1:]] == sorted((s.quality for s in r.top[1:]), reverse=True)
    assert r.best.frame_index in r.frame_indices
    assert len(r.top) == top_k and r.top[0] is r.best
    assert r.best.clip_frame_indices == sorted(r.best.clip_frame_indices)
    assert all(abs(f - r.best.frame_index) <= window for f in r.best.clip_frame_indices)
    assert r.best.frame_index in r.best.clip_frame_indices and len(r.best.clip) == len(r.best.clip_frame_indices)
    assert 2 <= len(r.thumbnails) <= 9 and len(r.thumbnail_frames) == len(r.thumbnails)
    assert r.best.frame_index in r.thumbnail_frames
    assert all(t.shape[0] == 96 for t in r.thumbnails)


def test_decimated_series_keeps_capacity_spread_and_best():
    rng = np.random.default_rng(7)
    values = rng.normal(size=5000)
    values[3333] = 10.0  # the best comes late, at an observation number no stride keeps
    series = DecimatedSeries(64)
    for k, v in enumerate(values):
        series.add(k, v)
        assert len(series) <= 64
    frames = series.frames()
    assert series.seen == 5000
    assert frames[0] == 0 and np.all(np.diff(frames) > 0)
    assert 3333 in frames and series.values().max() == 10.0
    gaps = np.diff(frames[frames != 3333])
    assert gaps.max() == gaps.min()  # uniform stride apart from the kept best


def test_decimated_series_earliest_best_on_ties():
    series = DecimatedSeries(2)
    for k in range(10):
        series.add(k, 1.0)
    assert series.frames()[np.argmax(series.values())] == 0


def test_default_scorer_falls_back_visibly(monkeypatch, caplog):
    monkeypatch.delattr(scoring, "default_scorer", raising=False)
    with caplog.at_level(logging.WARNING, logger="facesel"):
        sel = Selector(YuNetDetector())
    assert isinstance(sel.scorer, LaplacianVarianceScorer)
    assert "LaplacianVarianceScorer" in caplog.text


def test_default_scorer_is_the_package_default_when_there_is_one(monkeypatch):
    class Marker:
        def __init__(self, **settings):  # scoring.default_scorer takes the scorer's settings
            self.settings = settings

        def score(self, crops):
            return np.zeros(len(crops))

    monkeypatch.setattr(scoring, "default_scorer", Marker, raising=False)
    assert isinstance(Selector(YuNetDetector()).scorer, Marker)


def test_default_detector_is_the_factory_default():
    from facesel.detect import DEFAULT_DETECTOR, make_detector

    sel = Selector(scorer=LaplacianVarianceScorer())
    assert type(sel.detector) is type(make_detector(DEFAULT_DETECTOR))
    assert sel.detector.max_side == sel.config.max_side == 1280


def test_old_detector_module_names_are_the_new_modules():
    import facesel.detect.yunet
    import facesel.detectors.yunet

    assert facesel.detectors.yunet is facesel.detect.yunet
    assert facesel.detectors.YuNetDetector is facesel.detect.YuNetDetector
    assert facesel.Selector is Selector


class _SaysItReadsPixels(scoring.PickScorer):
    """The default context rule, declaring that it reads pixels: the Selector makes grey crops for it."""

    reads_pixels = True


@pytest.mark.parametrize("mode", ["sparse", "exhaustive"])
def test_the_context_rule_gets_no_grey_crops_and_the_same_results(head_pose, mode):
    # issue 27: the context rule reads no pixels, so without the consensus pick (which reads the grey
    # crops: on by default since issue 22's pick switch) the Selector makes only the colour crops it keeps
    frames, _, detections = head_pose
    context_rule = scoring.default_scorer()
    assert context_rule.reads_pixels is False and scoring.default_scorer("pick").reads_pixels is True
    made = []
    for scorer in (context_rule, _SaysItReadsPixels(weights={k: 0.0 for k in ("dose", "eyes", "eyes_relative")})):
        detector = YuNetDetector() if mode == "sparse" else ReplayDetector(detections)
        selector = Selector(detector, scorer, mode=mode, consensus_finalists=0)
        results = run(selector, frames * 3, [k / 10 for k in range(3 * len(frames))])
        made.append((selector._score.make_greys, [
            (r.track_id, r.best.frame_index, r.best.quality, r.best.crop.tobytes(), r.qualities.tobytes(),
             [(s.frame_index, s.quality) for s in r.top]) for r in results]))
    (without, a), (with_greys, b) = made
    assert without is False and with_greys is True
    assert a and a == b
    assert Selector(ReplayDetector(detections), context_rule, mode=mode)._score.make_greys is True  # the default
