"""A crowd walking at the camera: faces grow, move down and outward, and pass behind nearer ones (issue 23).

The geometry of :mod:`facesel.eval.crowds_approach` on its own, then real faces from the shared
folder (the ``shared_data`` fixture; composed in memory, never written): one person walking at the
camera gives exactly one snapshot, and two people, the later passing behind the earlier, give one
each with no snapshot spanning both (recorded once, :mod:`facesel.eval.crowds_replay`).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from facesel.eval import crowds
from facesel.eval.crowds_approach import ENTRY_WIDTHS, Approacher, approachers_for, compose_approach
from facesel.eval.crowds_crossing import CANVAS, crossings
from facesel.eval.crowds_replay import crowd_figures, record, replay
from facesel.select.faceness import FacenessRule
from facesel.select.finalise import DOSE_FACE_FLOOR, Finaliser
from facesel.select.linking import LinkRule
from facesel.selector import default_scorer

FRAMES = 150


def _width(rect) -> int:
    return int(rect[2] - rect[0])


def test_a_walker_grows_moves_down_and_outward_then_steps_out():
    walker = Approacher(entry=10, lateral=60.0, drift=0.0, exit_scale=3.0)
    assert walker.rect(9) == (0, 0, 0, 0)  # not there before its entry
    first, at_exit = walker.rect(10), walker.rect(int(walker.exit_frame))
    assert _width(first) == ENTRY_WIDTHS[0]
    assert _width(at_exit) == pytest.approx(3.0 * ENTRY_WIDTHS[0], rel=0.03)  # grew 3x
    assert at_exit[1] + at_exit[3] > first[1] + first[3]  # lower in the frame
    assert (at_exit[0] + at_exit[2]) / 2 - CANVAS[0] / 2 > (first[0] + first[2]) / 2 - CANVAS[0] / 2 + 50  # outward
    widths = [_width(walker.rect(t)) for t in range(10, int(walker.exit_frame))]
    assert all(b >= a for a, b in zip(widths, widths[1:]))  # grows steadily
    later = [walker.rect(t) for t in range(int(walker.exit_frame) + 1, int(walker.exit_frame) + 80)]
    assert later[0][0] > at_exit[0] and later[-1] == (0, 0, 0, 0)  # steps aside (right), then gone


def test_walkers_are_deterministic_and_the_earlier_is_nearer():
    a, b = approachers_for(6, 200, seed=5), approachers_for(6, 200, seed=5)
    assert a == b and len({w.entry for w in a}) == 6
    assert approachers_for(6, 200, seed=6) != a
    # one pace: at any frame where two are present, the one that entered earlier is larger
    for t in range(0, 200, 10):
        present = [w for w in a if w.scale(t) is not None]
        for v, w in zip(present, present[1:]):
            if v.entry < w.entry:
                assert v.scale(t) >= w.scale(t)


def _clip(more, name):
    return crowds.read_tile(more / name, FRAMES, skip=10)


def _finaliser(scorer):
    return Finaliser.for_scorer(scorer, 0.25, faceness=FacenessRule(min_quality=DOSE_FACE_FLOOR, suppress_static=False),
                                link=LinkRule())


@pytest.fixture(scope="module")
def detector():
    from facesel.detect import make_detector

    cv2.setNumThreads(1)
    return make_detector(max_side=1280)


def test_one_person_walking_at_the_camera_gives_one_snapshot(shared_data, detector):
    more = shared_data / "videos" / "more"
    walker = Approacher(entry=0, lateral=-40.0, drift=0.0, exit_scale=3.5)
    frames, truth = compose_approach([_clip(more, "LivePortrait__assets_examples_driving_d3.mp4")], [walker])
    boxes = [detector.detect(frames[t]).boxes for t in (5, int(walker.exit_frame) - 5)]
    assert len(boxes[0]) == 1 and len(boxes[1]) == 1
    sides = [float(b[0][2] - b[0][0]) for b in boxes]
    assert sides[1] > 2.5 * sides[0]  # the face grew as the walker came nearer
    scorer = default_scorer()
    recording = record(frames, detector, scorer, 25.0, locate=truth.person_at, keep_static=True)
    fin = _finaliser(scorer)
    figures = crowd_figures(recording, replay(recording, fin), fin.links, None, truth=truth)
    assert figures["per_tile"] == {0: 1} and figures["wrong_joins"] == 0


def test_two_people_the_later_passing_behind_the_earlier_get_one_snapshot_each(shared_data, detector):
    more = shared_data / "videos" / "more"
    clips = [_clip(more, "video-retalking__examples_face_4.mp4"), _clip(more, "LivePortrait__assets_examples_driving_d10.mp4")]
    # the first enters at once in the middle lane; the second 40 frames later, just to its right,
    # and passes behind it (a nearer face covers at least half of it)
    walkers = [Approacher(entry=0, lateral=0.0, drift=0.0, exit_scale=3.0),
               Approacher(entry=40, lateral=30.0, drift=-0.3, exit_scale=3.0)]
    frames, truth = compose_approach(clips, walkers)
    assert truth.order == [1, 0]  # the later one is farther: drawn first
    assert [(a, b) for a, b, _ in crossings(truth)] == [(0, 1)]
    assert np.min(truth.visible[41:90, 1]) < 0.5
    scorer = default_scorer()
    recording = record(frames, detector, scorer, 25.0, locate=truth.person_at, keep_static=True)
    fin = _finaliser(scorer)
    figures = crowd_figures(recording, replay(recording, fin), fin.links, None, truth=truth)
    assert figures["wrong_joins"] == 0
    assert figures["per_tile"].get(0, 0) >= 1 and figures["per_tile"].get(1, 0) >= 1
