"""The all-videos snapshot audit (``experiments/audit_shared.py``) and its junk facts
(``experiments/audit_shared_suspects.py``) on real shared clips: the audit runs without a face
image touching the disk, links a signer's one snapshot to the one recognisable person, and the
pixel facts measure what they say (docs/persons.md, "All 40 shared videos: per-video audit and junk").
"""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("dlib", reason="the eval matcher (dlib-bin) is not installed: pip install 'facesel[eval]'")

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"
SIGNER = "sample-videos__asl_gestures_eat.mkv"


@pytest.fixture(scope="module")
def scripts():
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(EXPERIMENTS))
        yield importlib.import_module("audit_shared"), importlib.import_module("audit_shared_suspects")


@pytest.fixture(scope="module")
def signer_audit(shared_data, scripts, tmp_path_factory):
    """The audit row of one signer clip, and the files the temporary folder held during it."""
    import tempfile

    from facesel.detect import make_detector
    from facesel.eval.census import IndependentFaceCheck
    from facesel.eval.head_checks import PersonBelowCheck, ProfileFaceCheck
    from facesel.eval.matcher import DlibMatcher
    from facesel.selector import default_detector, default_scorer

    audit_shared, _ = scripts
    tools = (make_detector(max_side=1280), DlibMatcher(), IndependentFaceCheck(8), ProfileFaceCheck(8), PersonBelowCheck(8))
    scratch = tmp_path_factory.mktemp("scratch")
    with pytest.MonkeyPatch.context() as patch:  # every temporary folder the audit makes lands here
        patch.setattr(tempfile, "tempdir", str(scratch))
        row = audit_shared.audit_video(shared_data / "videos" / "more" / SIGNER, SIGNER, 600, default_detector(),
                                       default_scorer(), tools)
    return row, sorted(p.name for p in scratch.rglob("*"))


def test_signer_clip_gives_one_matched_snapshot_for_its_one_person(signer_audit):
    row, _ = signer_audit
    assert row["recognisable_people"] == 1
    assert row["snapshots"] == 1 and row["recall"] == 1.0
    assert row["snapshots_per_recognisable_person"] == 1.0
    (snapshot,) = row["snapshot_facts"]
    assert snapshot["category"] == "match" and snapshot["person"] == 0
    assert row["non_face"] == 0 and row["head"] == 0
    # The finaliser's evidence of the sealed track was noted at its judgement: a signer lives.
    assert snapshot["det_max"] >= 0.8 and snapshot["lively_fraction"] > 0.2
    assert row["finaliser"]["released"] == 1


def test_audit_writes_no_image_and_leaves_nothing_behind(signer_audit):
    _, files = signer_audit
    assert files == []  # the numbers-only tracks.jsonl lived in a temporary folder, removed after


def test_source_grouping_covers_every_shared_video(shared_data, scripts):
    from crowds_shared import videos

    audit_shared, _ = scripts
    names = [p.name if p.name != "img" else "otb_girl" for p, _ in videos(shared_data)]
    sources = {audit_shared.source_of(n) for n in names}
    assert len(names) == 40
    assert {"sample-videos", "LivePortrait", "video-retalking", "mmaction2", "arcade", "otb"} <= sources
    assert audit_shared.source_of("intel_head_pose_female.gif") == audit_shared.source_of("intel_face_demographics_walking.gif")


def test_pixel_facts_tell_a_pinned_box_from_a_moving_face(shared_data, scripts):
    """The same box on the same frame twice changes by exactly 0; the signer's sealed track, over
    its life, changes and shows a face's landmark layout; an all-black box is dark and flat."""
    from facesel.detect import make_detector
    from facesel.eval.head_checks import PersonBelowCheck
    from facesel.plaintext_out import track_record
    from facesel.selector import default_detector, default_scorer
    from facesel.video import open_source

    audit_shared, suspects = scripts
    frames = [f for f, _ in open_source(shared_data / "videos" / "more" / SIGNER)]
    results, _, _ = audit_shared.run_video(frames, 30.0, 16.0, default_detector(), default_scorer())
    (record,) = [track_record(r) for r in results]
    mtcnn, person = make_detector("mtcnn"), PersonBelowCheck(8)
    h, w = frames[0].shape[:2]
    detector = default_detector()
    moving = suspects.facts_of_track(frames, record, mtcnn, person, w, h, detector)
    box = record["boxes"][0]
    pinned = suspects.facts_of_track([frames[0]] * 2, {"frame_indices": [0, 1], "boxes": [box, box]}, mtcnn, person, w, h)
    assert pinned["pixel_change"] == 0.0 < moving["pixel_change"]
    black = [np.zeros_like(frames[0])] * 2
    dark = suspects.facts_of_track(black, {"frame_indices": [0, 1], "boxes": [box, box]}, mtcnn, person, w, h, detector)
    assert dark["grey_mean"] == 0.0 and dark["grey_std"] == 0.0 and dark["skin"] == 0.0 and dark["mtcnn_best"] == 0.0
    assert moving["grey_std"] > 13.4  # a face is not flat (junk_flatness's 0.5th percentile of held-out faces)
    # The signer's frontal face: five landmarks in a face's layout (the landmark vote doubts above
    # 0.5), and an independent detector sure of it; on the black frame no detection, no layout.
    assert moving["landmark_layout"] < 0.5 and moving["mtcnn_best"] >= 0.9
    assert dark["landmark_layout"] is None


def test_contained_doubted_picks_only_a_short_doubted_track_inside_a_sure_ones_life(scripts):
    """The candidate rule of the junk audit, on hand-made rows: a short doubted track while a
    sure track lives is picked; a long one, a sure one, or one outliving the sure track is not."""
    audit_shared, _ = scripts

    def snap(tid, frames, det, count):
        return {"track_id": tid, "frames": frames, "det_max": det, "count": count}

    rows = [{"video": "v", "snapshot_facts": [snap(1, [0, 46], 0.94, 47),   # the sure face
                                              snap(2, [20, 26], 0.78, 6),   # doubted, inside: picked
                                              snap(3, [10, 40], 0.70, 29),  # doubted, inside, too long
                                              snap(4, [30, 50], 0.70, 5),   # doubted, outlives the sure one
                                              snap(5, [5, 9], 0.85, 4)]},   # sure itself
            {"video": "alone", "snapshot_facts": [snap(1, [0, 5], 0.6, 3)]}]  # nothing sure beside it
    assert audit_shared.contained_doubted(rows, 20) == [("v", 2)]
    assert audit_shared.contained_doubted(rows, 29) == [("v", 2), ("v", 3)]
    assert audit_shared.contained_doubted(rows, 5) == []
