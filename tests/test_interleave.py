"""Two tracks on one person at once (issue 23): the finaliser merges two held fragments that are
alive at the same time, never seen on the same frame, and hand over to each other close by at the
same size (:mod:`facesel.select.interleave`).

On the children on the bed the jumping girl outruns the tracker's association: a second track opens
on her while the first coasts, the detector's one box goes to one or the other frame by frame, and
the single-chain re-link left her two snapshots. Real data from the shared folder (the
``shared_data`` fixture; frames in memory, never written): the clip is recorded once
(:mod:`facesel.eval.crowds_replay`) and replayed through the finaliser without and with the merge.
The two-person case is a real face passing in front of another's (two signers, as
``experiments/interleave_pairs.py``'s ``passers``). The figures of the hand-overs are checked on
hand-made boxes.
"""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest
from evidence_helpers import make_evidence
from facesel.detect import make_detector
from facesel.eval.crowds_replay import record, replay
from facesel.scoring import LaplacianVarianceScorer
from facesel.select.finalise import Finaliser
from facesel.select.interleave import InterleaveRule, hand_overs, merged_evidence
from facesel.video import open_source


def _boxes(centres, side=40.0):
    c = np.asarray(centres, np.float64).reshape(-1, 2)
    return np.concatenate([c - side / 2, c + side / 2], axis=1)


def test_the_rule_is_validated_naming_the_field():
    with pytest.raises(ValueError, match="max_distance"):
        InterleaveRule(max_distance=-1)
    with pytest.raises(ValueError, match="max_size_ratio"):
        InterleaveRule(max_size_ratio=0.9)
    with pytest.raises(ValueError, match="max_frames"):
        InterleaveRule(max_frames=0)
    with pytest.raises(ValueError, match="max_colour_distance"):
        InterleaveRule(max_colour_distance=float("nan"))
    with pytest.raises(TypeError, match="interleave"):
        Finaliser(interleave="on")


def test_hand_overs_are_measured_where_both_are_alive_and_a_shared_frame_rules_a_pair_out():
    # a: frames 0-9 and 14; b: 10-13 at 0.5 box sides from a's boxes
    fa = np.array([*range(10), 14])
    fb = np.arange(10, 14)
    ba = _boxes([(100.0, 100.0)] * 11)
    bb = _boxes([(120.0, 100.0)] * 4)
    distance, size, gap = hand_overs(fa, ba, fb, bb)
    assert distance == pytest.approx(0.5) and size == pytest.approx(1.0) and gap == 1
    assert hand_overs(fa, ba, np.array([9, 10, 11, 12]), bb) is None  # seen together on frame 9: two faces
    assert hand_overs(np.arange(5), ba[:5], np.arange(6, 9), bb[:3]) is None  # one after the other: the re-link's
    # a re-linked chain: a first fragment (0-9) far away, then 20-24 alternating with b (20-27);
    # the step from the first fragment into b (frame 9 -> 19) is not a hand-over
    fc = np.array([*range(10), 20, 22, 24])
    bc = _boxes([(400.0, 100.0)] * 10 + [(100.0, 100.0)] * 3)
    fd = np.array([19, 21, 23, 25, 26, 27])
    bd = _boxes([(110.0, 100.0)] * 6)
    distance, _, _ = hand_overs(fc, bc, fd, bd)
    assert distance == pytest.approx(0.25)
    rule = InterleaveRule()

    class R:  # a result's two fields the rule reads
        def __init__(self, frames, boxes):
            self.frame_indices, self.boxes = frames, boxes
    assert rule.joins(R(fc, bc), R(fd, bd))
    assert not rule.joins(R(fc, bc), R(fd, _boxes([(160.0, 100.0)] * 6)))  # 1.5 box sides apart
    assert not rule.joins(R(fc, bc), R(fd, _boxes([(110.0, 100.0)] * 6, side=70.0)))  # 1.75x the size
    grey, red = np.full((2, 64), 1 / 64, np.float32), np.zeros((2, 64), np.float32)
    red[:, 0] = 1
    assert not rule.joins(R(fc, bc), R(fd, bd), grey, red)  # colours far apart


def test_the_merged_evidence_ends_where_the_later_ending_fragment_ends():
    long = make_evidence([[100, 100, 140, 140]] * 10 + [[300, 100, 340, 140]], [k / 25 for k in range(10)] + [0.56])
    short = make_evidence([[110, 100, 150, 140]] * 4, [k / 25 for k in range(10, 14)])
    for a, b in ((long, short), (short, long)):
        merged = merged_evidence(a, b)
        assert merged.count == 15 and merged.first_frame == 0 and merged.last_frame == 14
        assert merged.last_box.tolist() == [300, 100, 340, 140]
        assert merged.tail[-1][1].tolist() == [300, 100, 340, 140]
    later = make_evidence([[110, 100, 150, 140]] * 8, [k / 25 for k in range(10, 18)])
    merged = merged_evidence(later, long)
    assert merged.first_frame == 0 and merged.last_frame == 17 and merged.last_box.tolist() == [110, 100, 150, 140]


def _delivered_pairs(results, rule: InterleaveRule) -> list:
    """Pairs of delivered results the rule would join (each result: frames and boxes)."""
    return [(int(a.track_id), int(b.track_id)) for a, b in itertools.combinations(results, 2) if rule.joins(a, b)]


def _finaliser(interleave):
    return Finaliser.for_scorer(LaplacianVarianceScorer(), interleave=interleave)


def test_the_girl_on_the_bed_gets_one_snapshot_where_the_tracker_ran_two_tracks_on_her(shared_data):
    path = shared_data / "videos" / "more" / "sam2__notebooks_videos_bedroom.mp4"
    frames = [f for f, _ in itertools.islice(open_source(path), 200)]
    recording = record(frames, make_detector(max_side=1280), LaplacianVarianceScorer(), 30.0, None)
    rule = InterleaveRule()
    before = replay(recording, _finaliser(None))
    merging = _finaliser(rule)
    after = replay(recording, merging)
    # without the merge, two delivered snapshots are the girl's two simultaneous tracks
    assert len(_delivered_pairs(before, rule)) == 1
    assert _delivered_pairs(after, rule) == []
    assert len(after) == len(before) - 1
    # the girl's one result spans both tracks: frames 0-190, every frame seen once
    girl = max(after, key=lambda r: len(r.frame_indices))
    assert len(np.unique(girl.frame_indices)) == len(girl.frame_indices)
    assert int(girl.first_frame) <= 5 and int(girl.last_frame) >= 180


def test_a_face_passing_in_front_of_another_is_seen_with_it_and_never_merged(shared_data):
    # LivePortrait driver d19's face crosses d18's, 0.4 box sides lower: of every two-person pair of
    # tracks on the passers material this one was seen together on the fewest frames (2 of 5)
    from facesel.eval import crowds, passers

    more = shared_data / "videos" / "more"
    clips = [[cv2.resize(f, (640, 480)) for f in crowds.read_tile(more / f"LivePortrait__assets_examples_driving_{n}.mp4", 75, skip=10)]
             for n in ("d18", "d19")]
    detector = make_detector(max_side=1280)
    frames, centres = passers.pass_in_front(clips[0], clips[1], detector, dy=0.4)
    recording = record(frames, detector, LaplacianVarianceScorer(), 25.0, None, keep_static=True)
    fragments = [r for _, closed, _ in recording.steps for r in closed]
    owners = [passers.owner(centres, r.frame_indices, r.boxes) for r in fragments]
    overlapping = [(a, b) for (a, oa), (b, ob) in itertools.combinations(zip(fragments, owners), 2)
                   if oa != ob and min(oa, ob) >= 0 and a.first_frame <= b.last_frame and b.first_frame <= a.last_frame]
    assert overlapping, "the material must hold two people's tracks alive at the same time"
    rule = InterleaveRule()
    for a, b in overlapping:
        assert np.intersect1d(a.frame_indices, b.frame_indices).size > 0  # seen together
        assert not rule.joins(a, b)
    before = replay(recording, _finaliser(None))
    after = replay(recording, _finaliser(rule))
    assert sorted(int(r.track_id) for r in after) == sorted(int(r.track_id) for r in before)
    assert [len(r.frame_indices) for r in sorted(after, key=lambda r: r.track_id)] == \
        [len(r.frame_indices) for r in sorted(before, key=lambda r: r.track_id)]
