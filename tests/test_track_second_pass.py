"""The tracker's second association pass (ByteTrack): a partly covered face keeps its track.

A real talking head (shared data) has the lower 70 % of its face covered by a grey bar for 15
frames, made in memory (never written): YuNet then scores it 0.3-0.45 or misses it, below the 0.6
a box needs to start a track. With the second pass those low boxes continue the face's track;
without it (the tracker before, kept as ``second_pass=False``) the face is unseen for longer than
``max_age`` and its track ends and restarts. Both run on the same detections in one test. A low
box never starts a track; the binding names each bad argument.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from facesel.config import PipelineConfig
from facesel.core import Tracker
from facesel.detect import make_detector
from facesel.eval import crowds
from facesel.track import TrackStage

CLIP = "video-retalking__examples_face_2.mp4"
COVERED = range(20, 35)  # 15 frames: more than max_age (10)


@pytest.fixture(scope="module")
def covered_clip(shared_data):
    """(frames, detections at YuNet 0.3) of the talking head with its face covered on COVERED."""
    frames = crowds.read_tile(shared_data / "videos" / "more" / CLIP, 50)
    frames = [cv2.resize(f, (480, 360), interpolation=cv2.INTER_AREA) for f in frames]
    detector = make_detector(min_confidence=0.3)
    first = detector.detect(frames[0])
    x1, y1, x2, y2 = first.boxes[int(np.argmax(first.scores))].astype(int)
    for t in COVERED:
        frames[t] = frames[t].copy()
        frames[t][int(y2 - 0.7 * (y2 - y1)):y2 + 10, max(0, x1 - 10):x2 + 10] = 128
    return frames, [detector.detect(f) for f in frames]


def _track(frames, detections, second_pass: bool):
    """C++ track ids of every tracked detection, and the confirmed segments, through a TrackStage."""
    config = PipelineConfig(mode="exhaustive", second_pass=second_pass)
    stage = TrackStage(config)
    raw, segments = [], {}
    for frame, dets in zip(frames, detections):
        if not second_pass:  # the detector of the pipeline without the second pass drops these
            dets = dets[dets.scores >= config.start_confidence]
        update = stage.update(dets, frame)
        raw += stage.raw_ids.tolist()
        for segment, ok in zip(update.track_ids.tolist(), update.confirmed.tolist()):
            segments[segment] = segments.get(segment, False) or ok
    return set(raw), {s for s, ok in segments.items() if ok}


def test_a_partly_covered_real_face_keeps_one_track_with_the_second_pass(covered_clip):
    frames, detections = covered_clip
    low = [t for t in COVERED if len(detections[t]) and detections[t].scores.max() < 0.6]
    assert len(low) >= 5, "the cover must leave the face detected below 0.6 only (else this checks nothing)"
    assert all(len(d) and d.scores.max() >= 0.6 for d in detections[:COVERED.start])

    with_pass, with_segments = _track(frames, detections, second_pass=True)
    without, without_segments = _track(frames, detections, second_pass=False)
    assert len(with_pass) == 1 and len(with_segments) == 1
    assert len(without) == 2 and len(without_segments) == 2  # ended while covered, restarted after


def test_a_low_confidence_real_face_never_starts_a_track(covered_clip):
    frames, detections = covered_clip
    stage = TrackStage(PipelineConfig(mode="exhaustive", second_pass=True))
    seen = 0
    for t in COVERED:  # the covered frames alone: every box there is below 0.6
        dets = detections[t]
        assert (dets.scores < 0.6).all()
        seen += len(dets)
        update = stage.update(dets, frames[t])
        assert len(update.track_ids) == 0 and len(stage.detections) == 0
    assert seen >= 5 and len(stage.tracker) == 0


def test_low_boxes_only_continue_tracks_that_no_confident_box_took():
    tracker = Tracker(min_hits=1, start_score=0.6)
    face = np.array([[100, 100, 140, 140]], np.float32)
    assert tracker.update(face, np.array([0.9], np.float32)).track_ids.tolist() == [1]
    # the confident box takes the track; the low one beside it is nobody's
    both = np.array([[101, 100, 141, 140], [104, 102, 144, 142]], np.float32)
    assert tracker.update(both, np.array([0.9, 0.4], np.float32)).track_ids.tolist() == [1, -1]
    # alone, the low box continues the track (second pass); far away it starts none
    assert tracker.update(face + 2, np.array([0.4], np.float32)).track_ids.tolist() == [1]
    assert tracker.update(face + 300, np.array([0.4], np.float32)).track_ids.tolist() == [-1]
    off = Tracker(min_hits=1, start_score=0.6, second_pass=False)
    off.update(face, np.array([0.9], np.float32))
    assert off.update(face + 2, np.array([0.4], np.float32)).track_ids.tolist() == [-1]
    # a tentative track (fewer than min_hits) is not carried on low boxes (ByteTrack's rule)
    tentative = Tracker(min_hits=3, start_score=0.6)
    tentative.update(face, np.array([0.9], np.float32))
    assert tentative.update(face + 2, np.array([0.4], np.float32)).track_ids.tolist() == [-1]
    # without scores every box starts and continues tracks, as before
    assert Tracker(min_hits=1, start_score=0.6).update(face).track_ids.tolist() == [1]


def test_the_binding_names_each_bad_argument():
    with pytest.raises(ValueError, match="start_score"):
        Tracker(start_score=1.5)
    with pytest.raises(ValueError, match="start_score"):
        Tracker(start_score=float("nan"))
    with pytest.raises(TypeError, match="start_score"):
        Tracker(start_score="0.5")
    with pytest.raises(TypeError, match="second_pass"):
        Tracker(second_pass=1)
    tracker = Tracker(start_score=0.6)
    box = np.array([[0, 0, 10, 10]], np.float32)
    with pytest.raises(ValueError, match="scores must have one entry per box"):
        tracker.update(box, np.array([0.5, 0.5], np.float32))
    with pytest.raises(ValueError, match="scores must hold finite values"):
        tracker.update(box, np.array([np.nan], np.float32))
    with pytest.raises(ValueError, match="scores must have 1 dimensions"):
        tracker.update(box, np.array([[0.5]], np.float32))
    with pytest.raises(TypeError, match="scores"):
        tracker.update(box, [0.5])
    assert len(tracker) == 0  # nothing changed by the refused calls
    with pytest.raises(ValueError, match="low_confidence"):
        PipelineConfig(low_confidence=1.2)


@pytest.mark.parametrize("second_pass", [False, True])
def test_otb_girl_keeps_her_track_when_the_man_crosses_in_front(shared_data, second_pass):
    """OTB Girl frames 400-480: the man's face passes in front of hers (432-459). Her detections
    before and after the crossing stay in one segment, and no confirmed segment holds hers and his.
    His box overlapping her ground-truth box is not counted as hers (switches.girl_person)."""
    from facesel.eval.switches import girl_person
    from facesel.selector import default_detector

    folder = shared_data / "videos" / "otb_girl"
    text = (folder / "groundtruth_rect.txt").read_text().replace(",", " ").split()  # tabs or commas
    truth = np.array(text, np.float32).reshape(-1, 4)
    truth[:, 2:] += truth[:, :2]
    paths = sorted((folder / "img").glob("*.jpg"))
    config = PipelineConfig(mode="exhaustive", second_pass=second_pass)
    detector = default_detector(config)
    stage = TrackStage(config)
    owners: dict[int, set] = {}  # segment -> whose detections (1 hers, 0 another face)
    hers_before, hers_after, his_over_hers = set(), set(), 0
    for f in range(400, 481):
        frame = cv2.imread(str(paths[f]))
        update = stage.update(detector.detect(frame), frame)
        for box, segment in zip(stage.detections.boxes, update.track_ids.tolist()):
            who = girl_person(box, truth[f])
            if who >= 0:
                owners.setdefault(segment, set()).add(who)
            if who == 1 and 415 <= f < 430:
                hers_before.add(segment)
            if who == 1 and 441 <= f <= 452:
                hers_after.add(segment)
            iou_box = np.array([max(box[0], truth[f][0]), max(box[1], truth[f][1]), min(box[2], truth[f][2]),
                                min(box[3], truth[f][3])])
            if 432 <= f <= 436 and who != 1 and (iou_box[2:] > iou_box[:2]).all():
                his_over_hers += 1  # his face over hers, overlapping her box, not counted as hers
    assert his_over_hers >= 3, "the man's face must cross hers in these frames (else this checks nothing)"
    assert len(hers_before) == 1 and hers_before == hers_after
    assert all(len(who) == 1 for who in owners.values())
