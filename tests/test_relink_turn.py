"""A head turned away and back (issue 23, session 18; ``LinkRule.turn_distance``, off by default;
docs/persons.md "A head turned away and back"): which way a face looks from its landmarks, the
turn link on hand-made fragments, and on OTB Girl, who turns round on her chair (shared data,
``shared_data`` fixture; recorded in memory, nothing written)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from facesel.detect import make_detector
from facesel.eval.crowds_replay import record, replay
from facesel.scoring import LaplacianVarianceScorer
from facesel.select.evidence import TrackEvidence
from facesel.select.facing import end_facing, facing, head_centre
from facesel.select.finalise import Finaliser
from facesel.select.linking import LinkRule
from facesel.video import open_source


def _marks(box, looks: int) -> np.ndarray:
    """(5, 2) landmarks of a face in ``box`` looking ``looks`` (-1 left, +1 right, 0 at the camera)."""
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    if looks == 0:
        eyes, nose = (x1 + 0.3 * w, x1 + 0.7 * w), x1 + 0.5 * w
    else:  # a profile: the eyes close together, the nose at the side the face looks to
        side = x1 + 0.1 * w if looks < 0 else x1 + 0.9 * w
        eyes, nose = (side + 0.15 * w * -looks, side + 0.2 * w * -looks), side
    y = y1 + 0.4 * h
    return np.array([[min(eyes), y], [max(eyes), y], [nose, y1 + 0.6 * h],
                     [x1 + 0.35 * w, y1 + 0.8 * h], [x1 + 0.65 * w, y1 + 0.8 * h]], np.float32)


def _fragment(box, start: float, looks: int, count: int = 10, step: float = 0.04) -> TrackEvidence:
    """A still track's evidence: ``count`` observations of ``box`` from ``start`` seconds, each
    looking ``looks``, no colours."""
    e = TrackEvidence()
    for k in range(count):
        t = start + k * step
        e.add(box, 0.9, _marks(box, looks), t, round(t * 25), False)
    return e


def test_the_turn_link_is_off_by_default_and_validated_naming_the_field():
    assert LinkRule().turn_distance is None
    with pytest.raises(ValueError, match="turn_distance"):
        LinkRule(turn_distance=-1.0)
    with pytest.raises(ValueError, match="turn_count"):
        LinkRule(turn_distance=1.0, turn_count=0)


def test_which_way_a_face_looks_comes_from_its_landmarks():
    box = (100.0, 100.0, 140.0, 150.0)
    assert facing(box, _marks(box, 0)) == 0
    assert facing(box, _marks(box, -1)) == -1
    assert facing(box, _marks(box, 1)) == 1
    assert facing(box, None) is None
    boxes = [box] * 4
    assert end_facing(boxes, [_marks(box, 1)] * 3 + [_marks(box, 0)], 3) == 1
    assert end_facing(boxes, [_marks(box, 1)] * 3 + [_marks(box, -1)], 3) is None  # one looked the other way
    assert end_facing(boxes, [_marks(box, 1)] * 2 + [None] * 2, 3) is None
    # the head is behind a profile face: to the right of a face looking left
    assert head_centre(box, -1)[0] > (box[0] + box[2]) / 2 > head_centre(box, 1)[0]


def test_a_face_back_in_the_other_profile_on_the_other_side_of_the_head_is_joined_only_by_the_turn_link():
    left = (100.0, 100.0, 120.0, 125.0)  # 20 px wide, looking left: the head reaches to its right
    right = (132.0, 100.0, 152.0, 125.0)  # the same head turned round: 32 px on, 1.6 box sides
    earlier, later = _fragment(left, 0.0, -1), _fragment(right, 0.36 + 0.6, 1)
    assert LinkRule().cost(earlier, later, [earlier, later]) is None  # position: the face boxes are apart
    turn = LinkRule(turn_distance=1.0)
    assert turn.cost(earlier, later, [earlier, later]) is not None  # the heads' centres 0.6 box sides apart
    assert LinkRule(turn_distance=0.5).cost(earlier, later, [earlier, later]) is None
    # back in the same profile, or facing the camera: not a turn (the other gates decide, and refuse)
    assert turn.cost(earlier, _fragment(right, 0.96, -1), []) is None
    assert turn.cost(earlier, _fragment(right, 0.96, 0), []) is None
    # someone else near the place during the gap
    passer = _fragment((125.0, 100.0, 145.0, 125.0), 0.4, 0, count=10)
    assert turn.cost(earlier, later, [earlier, later, passer]) is None
    # a switch cue ended the earlier one; or the later one comes back after the longest gap
    cut = _fragment(left, 0.0, -1)
    cut.ended_by = "appearance"
    assert turn.cost(cut, later, []) is None
    assert turn.cost(earlier, _fragment(right, 0.36 + 3.2, 1), []) is None


def girl_share(recording, truth) -> dict:
    """Per track id: the share of its boxes whose centre lies in OTB Girl's ground-truth head box."""
    inside: dict = {}
    for packet, _, _ in recording.steps:
        if packet is None:
            continue
        g = truth[min(len(truth) - 1, packet.index)]
        for t, b in zip(np.asarray(packet.update.track_ids).tolist(), packet.detections.boxes):
            cx, cy = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
            inside.setdefault(int(t), []).append(g[0] <= cx <= g[2] and g[1] <= cy <= g[3])
    return {t: float(np.mean(v)) for t, v in inside.items()}


def test_otb_girl_turning_round_is_joined_across_her_turns_and_never_to_the_man(shared_data):
    folder = shared_data / "videos" / "otb_girl"
    truth = np.array((folder / "groundtruth_rect.txt").read_text().replace(",", " ").split(), np.float32).reshape(-1, 4)
    truth[:, 2:] += truth[:, :2]
    frames = [f for f, _ in itertools.islice(open_source(folder / "img"), 500)]
    scorer = LaplacianVarianceScorer()
    recording = record(frames, make_detector(max_side=1280), scorer, 25.0, None, min_face_size=8.0)
    girl = {t for t, share in girl_share(recording, truth).items() if share >= 0.5}

    def run(rule):
        finaliser = Finaliser.for_scorer(scorer, link=rule)
        delivered = replay(recording, finaliser)
        mine = [r for r in delivered if int(r.track_id) in girl]
        return delivered, mine, finaliser.links

    default, default_girl, default_links = run(LinkRule())
    assert len(default_girl) >= 2, "the default must split the girl (else this checks nothing)"
    turned, turned_girl, turned_links = run(LinkRule(turn_distance=1.5, turn_count=2))
    assert len(turned_girl) < len(default_girl)  # her turns are joined
    added = set(map(tuple, turned_links)) - set(map(tuple, default_links))
    assert added and all(a in girl and b in girl for a, b in added)  # only her fragments, never the man's
    assert len(default) - len(default_girl) == len(turned) - len(turned_girl)  # the man's snapshots as they were
