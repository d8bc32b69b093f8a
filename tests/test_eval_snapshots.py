"""The snapshot audit's arithmetic on hand-made embeddings and boxes (no matcher, no video)."""

from __future__ import annotations

import numpy as np
import pytest
from facesel.eval.contact_sheet import draw_sheet
from facesel.eval.snapshots import CATEGORIES, cluster_people, is_static, match_snapshots, sample_positions, summarise, track_people


def _person(centre, n, rng, spread=0.05):
    return centre + spread * rng.standard_normal((n, len(centre)))


@pytest.fixture
def two_people():
    """Person A in frames 0-4, person B in frames 2-6, one stray face seen once (frame 3)."""
    rng = np.random.default_rng(0)
    a, b, stray = np.zeros(8), np.zeros(8), np.zeros(8)
    a[0], b[1], stray[2] = 1.0, 1.0, 1.0  # 1.41 apart: far beyond the 0.6 threshold
    emb = np.vstack([_person(a, 5, rng), _person(b, 5, rng), stray[None]])
    frames = np.array([0, 1, 2, 3, 4, 2, 3, 4, 5, 6, 3])
    return emb, frames, a, b, stray


def test_people_are_clusters_seen_in_enough_frames(two_people):
    emb, frames, *_ = two_people
    labels = cluster_people(emb, frames, threshold=0.6, min_frames=3)
    assert labels[:5].tolist() == [0] * 5 and labels[5:10].tolist() == [1] * 5
    assert labels[10] == -1  # seen in one frame only: not recognisable
    assert (cluster_people(emb, frames, min_frames=6) == -1).all()  # nobody spans 6 frames
    assert cluster_people(np.zeros((0, 8)), []).shape == (0,)


def test_continuity_gives_a_mixed_cluster_back_to_the_people_whose_paths_it_lies_on():
    """Person A walks left to right (frames 0-9), person B stands at the right (frames 0-9); on
    frames 4 and 5 each turns away, and the matcher puts those four turned faces in a cluster of
    their own, which spans 2 frames and so, with min_frames=2, counts as a third person.
    With the boxes, each turned face rejoins the person on whose path it lies; A and B stay apart
    although the mixed cluster touched both."""
    rng = np.random.default_rng(1)
    a, b, turned = np.zeros(8), np.zeros(8), np.zeros(8)
    a[0], b[1], turned[2] = 1.0, 1.0, 1.0
    frames, boxes, emb = [], [], []
    for f in range(10):
        for who, centre, x in (("a", a, 10 * f), ("b", b, 300)):
            frames.append(f)
            boxes.append([x, 0, x + 40, 40])
            emb.append((turned if f in (4, 5) else centre) + 0.05 * rng.standard_normal(8))
    frames, boxes, emb = np.array(frames), np.array(boxes, float), np.array(emb)
    alone = cluster_people(emb, frames, min_frames=2)
    assert alone.max() == 2  # without the boxes the turned faces are a third "person"
    labels = cluster_people(emb, frames, min_frames=2, boxes=boxes)
    assert labels.max() == 1
    assert len(set(labels[0::2].tolist())) == 1 and len(set(labels[1::2].tolist())) == 1  # A's and B's
    assert labels[0] != labels[1]  # never merged with each other
    with pytest.raises(ValueError, match="boxes"):
        cluster_people(emb, frames, boxes=boxes[:3])


def test_snapshots_match_the_nearest_person_within_the_threshold(two_people):
    emb, frames, a, b, stray = two_people
    labels = cluster_people(emb, frames)
    snaps = np.vstack([a + 0.1, b, stray, np.full(8, np.nan)])
    person, distance = match_snapshots(snaps, emb, labels)
    assert person.tolist() == [0, 1, -1, -1]
    assert distance[0] < 0.6 and distance[2] > 1.0 and np.isinf(distance[3])


def test_a_track_belongs_to_the_person_its_boxes_cover():
    det_frames = np.array([0, 1, 1, 2])
    det_boxes = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [50, 50, 60, 60], [1, 1, 11, 11]], float)
    labels = np.array([3, 3, 5, -1])
    assert track_people([0, 1, 2], [[0, 0, 10, 10], [1, 0, 11, 10], [1, 1, 11, 11]], det_frames, det_boxes, labels) == 3
    assert track_people([1], [[50, 50, 60, 60]], det_frames, det_boxes, labels) == 5
    assert track_people([2], [[1, 1, 11, 11]], det_frames, det_boxes, labels) == -1  # unlabelled detection
    assert track_people([0], [[30, 30, 40, 40]], det_frames, det_boxes, labels) == -1  # no overlap


def test_a_person_after_a_cut_at_the_same_place_is_not_joined_to_the_one_before():
    """A TV cut (issue 23): the singer's face at one place for frames 0-19, then, from frame 20,
    another man's face at the same place for 4 frames. Continuity across the cut hands the man's
    detections to the singer (they overlap the frame before, and the singer's cluster is larger):
    the census misses him. With the cut, he is a person of his own."""
    rng = np.random.default_rng(2)
    singer, man = np.zeros(8), np.zeros(8)
    singer[0], man[1] = 1.0, 1.0
    frames = np.arange(24)
    emb = np.array([(singer if f < 20 else man) + 0.05 * rng.standard_normal(8) for f in frames])
    boxes = np.tile([100.0, 100.0, 160.0, 170.0], (24, 1))
    joined = cluster_people(emb, frames, min_frames=3, boxes=boxes)
    assert joined.max() == 0  # one "person": the man is lost
    labels = cluster_people(emb, frames, min_frames=3, boxes=boxes, cuts=[20])
    assert labels.max() == 1 and set(labels[:20].tolist()) == {0} and set(labels[20:].tolist()) == {1}


def test_the_summary_lists_each_persons_snapshots_and_the_reason_of_the_others():
    s = summarise(2, [7, 8, 9, 10], matched=[0, -1, -1, -1], track_person=[0, 0, -1, -1],
                  face_check=[True, False, False, False], head_check=[True, False, True, False], static=[False] * 4)
    d = s.as_dict()
    assert d["snapshots_of_person"] == [[{"track_id": 7, "category": "match"}, {"track_id": 8, "category": "poor"}], []]
    assert [(v["track_id"], v["category"]) for v in d["linked_to_nobody"]] == [(9, "head"), (10, "non_face")]


def test_summary_counts_every_category_and_per_person():
    # Two people; snapshots: P0 twice, P1 once, a poor snapshot of P1, an unmatched face, a head
    # seen from behind, a non-face.
    s = summarise(2, [1, 2, 3, 4, 5, 6, 7], matched=[0, 0, 1, -1, -1, -1, -1], track_person=[0, 0, 1, 1, -1, -1, -1],
                  face_check=[True, True, True, True, True, False, False],
                  head_check=[True, True, True, True, True, True, False], static=[False] * 6 + [True])
    d = s.as_dict()
    assert [v.category for v in s.verdicts] == ["match", "match", "match", "poor", "unmatched_face", "head", "non_face"]
    assert d["recall"] == 1.0 and d["match_recall"] == 1.0
    assert d["snapshots_per_recognisable_person"] == 2.0  # the poor snapshot of P1 counts too, the head does not
    assert d["linked_snapshots_per_person"] == [2, 2]
    assert d["all_snapshots_per_recognisable_person"] == 3.5
    assert (d["poor_of_a_known_person"], d["unmatched_faces"], d["head"], d["non_face"], d["matches_nobody"]) == (1, 1, 1, 1, 4)
    assert d["static"] == 1
    assert sum(s.counts.values()) == s.snapshots and set(s.counts) == set(CATEGORIES)
    missed = summarise(2, [1], matched=[1], track_person=[1], face_check=[True], head_check=[True], static=[False])
    assert missed.recall == 0.5 and missed.per_person == [0, 1]
    poor_only = summarise(1, [1], matched=[-1], track_person=[0], face_check=[False], head_check=[False], static=[False])
    assert poor_only.recall == 1.0 and poor_only.match_recall == 0.0
    with pytest.raises(ValueError, match="entries"):
        summarise(1, [1, 2], [0], [0], [True], [True], [False])
    with pytest.raises(ValueError, match="entries"):
        summarise(1, [1], [-1], [-1], [False], [], [False])  # head_check missing for the snapshot


def test_a_face_outranks_a_head_and_a_link_outranks_both():
    """The checks are asked in order: a matched or poor snapshot stays linked whatever the checks
    say, a face seen beats a person under the box, and only a snapshot neither accepts is junk."""
    s = summarise(1, [1, 2, 3, 4], matched=[0, -1, -1, -1], track_person=[-1, 0, -1, -1],
                  face_check=[False, False, True, False], head_check=[False, False, True, True], static=[False] * 4)
    assert [v.category for v in s.verdicts] == ["match", "poor", "unmatched_face", "head"]
    assert s.counts["non_face"] == 0 and s.per_person == [2]
    junk = summarise(0, [9], matched=[-1], track_person=[-1], face_check=[False], head_check=[False], static=[True])
    assert junk.counts == {"match": 0, "poor": 0, "unmatched_face": 0, "head": 0, "non_face": 1}
    assert np.isnan(junk.recall) and junk.as_dict()["matches_nobody"] == 1


def test_sample_positions_spread_over_the_track():
    assert sample_positions(0, 8).tolist() == []
    assert sample_positions(3, 8).tolist() == [0, 1, 2]
    picks = sample_positions(100, 8)
    assert len(picks) == 8 and picks[0] == 0 and picks[-1] == 99 and np.all(np.diff(picks) > 10)


def test_static_means_the_centre_stays_within_a_quarter_box():
    still = np.array([[100, 100, 140, 140], [102, 101, 142, 141], [99, 100, 139, 140]], float)
    assert is_static(still)
    walking = still + np.array([[0], [20], [40]]) * np.array([1, 0, 1, 0])
    assert not is_static(walking)
    assert not is_static(still[:1])  # one box says nothing about motion


def test_contact_sheet_draws_one_tile_per_snapshot(tmp_path):
    images = [np.full((40, 30, 3), v, np.uint8) for v in (0, 128, 255)]
    path = draw_sheet(images, ["a", "b", "c"], ["match", "head", "non_face"], tmp_path / "s.png", size=32, columns=2)
    import cv2

    sheet = cv2.imread(str(path))
    assert sheet.shape == (24 + 2 * (32 + 18), 2 * 32, 3)  # header + two rows of two tiles
    with pytest.raises(ValueError, match="unknown categories"):
        draw_sheet(images[:1], ["a"], ["junk"], tmp_path / "t.png")
