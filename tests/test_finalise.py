"""The track finaliser on hand-made tracks: grace period, re-linking, faceness verdicts, counters."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from facesel.select.evidence import shadowed_mask
from facesel.select.faceness import FacenessRule, landmark_residual
from facesel.select.finalise import Finaliser
from facesel.select.linking import LinkRule
from facesel.select.merging import merge_results
from facesel.align import TEMPLATE
from facesel.select.tracklog import SelectedTrack
from facesel.types import Detections, Snapshot

FPS = 25.0


def result(track_id, frames, boxes, qualities):
    frames = np.asarray(frames, np.int64)
    boxes = np.asarray(boxes, np.float32)
    qualities = np.asarray(qualities, np.float64)
    k = int(np.argmax(qualities))
    best = Snapshot(np.zeros((4, 4, 3), np.uint8), boxes[k], None, float(qualities[k]), int(frames[k]),
                    frames[k] / FPS, track_id)
    return SelectedTrack(track_id, int(frames[0]), int(frames[-1]), frames[0] / FPS, frames[-1] / FPS, best,
                         qualities, frames, boxes=boxes, top=[best])


def walk(start_frame, n, x0, speed=4.0, side=40.0, y=100.0):
    """Frames and boxes of a face moving right by ``speed`` pixels a frame."""
    frames = np.arange(start_frame, start_frame + n)
    x = x0 + speed * (frames - start_frame)
    return frames, np.stack([x, np.full(n, y), x + side, np.full(n, y + side)], axis=1)


def observe(fin, track_id, frames, boxes, score=0.9):
    for f, b in zip(frames, boxes):
        fin.evidence.observe_frame([track_id], Detections(b[None], [score]), f / FPS, int(f))


def rule(**kw):
    return FacenessRule(min_quality=-50.0, **kw)


def test_a_closed_track_is_held_for_the_grace_period_in_seconds():
    fin = Finaliser(grace_seconds=1.0, link=LinkRule(), faceness=rule())
    frames, boxes = walk(0, 20, 0)
    observe(fin, 1, frames, boxes)
    fin.add(result(1, frames, boxes, np.linspace(-5, -1, 20)), now=2.0)
    assert fin.poll(2.5) == [] and fin.held == 1
    out = fin.poll(3.0)
    assert [r.track_id for r in out] == [1] and fin.held == 0
    assert fin.stats.released == 1 and fin.stats.closed == 1


def test_a_fragment_that_starts_where_the_track_was_heading_is_merged():
    fin = Finaliser(grace_seconds=1.0, link=LinkRule(), faceness=rule())
    f1, b1 = walk(0, 20, 0)            # ends at frame 19, x = 76, moving 100 px/s
    f2, b2 = walk(30, 20, 76 + 44)     # 0.44 s later, 44 px on: where it was heading
    observe(fin, 1, f1, b1)
    fin.add(result(1, f1, b1, np.full(20, -3.0)), now=29 / FPS)  # closed after max_age frames
    observe(fin, 2, f2, b2)  # the successor is open while the first one's grace runs out
    assert fin.poll(29 / FPS + 1.0) == [] and fin.held == 1  # waits for its successor
    q2 = np.full(20, -3.0)
    q2[7] = -0.5
    fin.add(result(2, f2, b2, q2), now=60 / FPS)
    out = fin.flush()
    assert len(out) == 1 and fin.stats.merged == 1
    merged = out[0]
    assert merged.track_id == 1 and merged.first_frame == 0 and merged.last_frame == 49
    assert merged.best.quality == -0.5 and merged.best.frame_index == 37 and merged.best.track_id == 1
    assert merged.frame_indices.tolist() == list(range(20)) + list(range(30, 50))
    assert len(merged.boxes) == 40


@pytest.mark.parametrize("x0, linked", [(152, True), (152 + 88, True), (152 - 60, False)])
def test_a_person_who_stops_behind_someone_is_linked_where_last_seen(x0, linked):
    """Walking 200 px/s, hidden for 0.44 s: the continuation may start where the track was heading
    (x 240) or where it was last seen (x 152, the person stopped); 1.5 box sides behind is neither."""
    fin = Finaliser(grace_seconds=1.0, link=LinkRule(), faceness=rule())
    f1, b1 = walk(0, 20, 0, speed=8.0)   # last seen at frame 19, x = 152
    f2, b2 = walk(30, 20, x0, speed=0.0)
    observe(fin, 1, f1, b1)
    observe(fin, 2, f2, b2)
    fin.add(result(1, f1, b1, np.full(20, -3.0)), now=1.0)
    fin.add(result(2, f2, b2, np.full(20, -3.0)), now=3.0)
    out = fin.flush()
    assert (len(out), fin.stats.merged) == ((1, 1) if linked else (2, 0))


@pytest.mark.parametrize(
    "start, x0, side, why",
    [(50, 76 + 4 * 31, 40.0, "gap over a second"), (30, 400, 40.0, "far from the prediction"),
     (30, 120, 80.0, "twice the size"), (5, 120, 40.0, "started before the first one ended")],
)
def test_fragments_that_do_not_fit_stay_apart(start, x0, side, why):
    fin = Finaliser(grace_seconds=1.0, link=LinkRule(), faceness=rule())
    f1, b1 = walk(0, 20, 0)
    f2, b2 = walk(start, 20, x0, side=side)
    observe(fin, 1, f1, b1)
    observe(fin, 2, f2, b2)
    fin.add(result(1, f1, b1, np.full(20, -3.0)), now=1.0)
    fin.add(result(2, f2, b2, np.full(20, -3.0)), now=3.0)
    out = fin.flush()
    assert sorted(r.track_id for r in out) == [1, 2], why
    assert fin.stats.merged == 0


def test_a_successor_that_dies_tentative_releases_its_predecessor():
    fin = Finaliser(grace_seconds=1.0, link=LinkRule(), faceness=rule())
    f1, b1 = walk(0, 20, 0)
    observe(fin, 1, f1, b1)
    fin.add(result(1, f1, b1, np.full(20, -3.0)), now=1.0)
    observe(fin, 2, *walk(30, 2, 120))
    assert fin.poll(2.0) == []  # waiting for track 2
    fin.evidence.discard(2)  # the tracker dropped it unconfirmed
    assert fin.poll(2.1) == [] and fin.held == 1  # held again ...
    assert [r.track_id for r in fin.poll(3.1)] == [1]  # ... and released once nothing continues it


def test_not_a_face_needs_both_the_detector_and_the_quality_vote():
    fin = Finaliser(grace_seconds=0.0, faceness=rule())
    cases = {1: (0.6, -80.0), 2: (0.6, -10.0), 3: (0.95, -80.0), 4: (0.95, -10.0)}
    for track_id, (score, quality) in cases.items():
        frames, boxes = walk(track_id * 100, 10, 0)
        observe(fin, track_id, frames, boxes, score=score)
        fin.add(result(track_id, frames, boxes, np.full(10, quality)), now=0.0)
    out = fin.poll(0.0)
    assert sorted(r.track_id for r in out) == [2, 3, 4]
    assert fin.stats.dropped["not_face"] == 1 and fin.stats.released_poor == 2 and fin.drops == [(1, "not_face")]


def test_a_track_that_never_moves_is_dropped_unless_asked_to_keep_it():
    frames, boxes = walk(0, 75, 500, speed=0.0)  # three seconds, standing still
    for suppress, expected in ((True, []), (False, [7])):
        fin = Finaliser(grace_seconds=0.0, faceness=rule(suppress_static=suppress))
        observe(fin, 7, frames, boxes)
        fin.add(result(7, frames, boxes, np.full(75, -3.0)), now=3.0)
        assert [r.track_id for r in fin.poll(3.0)] == expected
        assert fin.stats.dropped["static"] == (1 if suppress else 0)


def test_a_second_box_on_one_head_is_a_duplicate():
    fin = Finaliser(grace_seconds=0.0, faceness=rule())
    face = np.array([100, 100, 140, 140], np.float32)
    hair = face - np.array([0, 30, 0, 30], np.float32)  # overlaps the face's top quarter
    for f in range(10):
        fin.evidence.observe_frame([1, 2], Detections(np.stack([face, hair]), [0.9, 0.7]), f / FPS, f)
    fin.add(result(1, range(10), np.tile(face, (10, 1)), np.full(10, -3.0)), now=0.0)
    fin.add(result(2, range(10), np.tile(hair, (10, 1)), np.full(10, -3.0)), now=0.0)
    assert [r.track_id for r in fin.poll(0.0)] == [1]
    assert fin.stats.dropped["duplicate"] == 1
    assert shadowed_mask(np.stack([face, hair]), [0.9, 0.7]).tolist() == [False, True]


def test_two_boxes_on_one_head_that_swap_confidence_keep_the_surer_track():
    """The face and the top of a bowed head, with this frame's scores swapping which is surer (as
    on the arcade video, frames 84-104): judged per frame, the face would be the one shadowed on
    most frames (3 of 5); judged by the tracks' mean confidence so far, the head top is, on all."""
    fin = Finaliser(grace_seconds=0.0, faceness=rule())
    face = np.array([100, 100, 140, 140], np.float32)
    top = face - np.array([0, 28, 0, 28], np.float32)  # overlaps the face's top 30 %
    face_scores, top_scores = [0.84, 0.84, 0.69, 0.67, 0.62], [0.66, 0.61, 0.76, 0.72, 0.80]
    for f, (a, b) in enumerate(zip(face_scores, top_scores)):
        fin.evidence.observe_frame([1, 2], Detections(np.stack([face, top]), [a, b]), f / FPS, f)
    assert fin.evidence.get(1).shadowed == 0 and fin.evidence.get(2).shadowed == 5
    per_frame = [shadowed_mask(np.stack([face, top]), [a, b])[0] for a, b in zip(face_scores, top_scores)]
    assert sum(per_frame) == 3  # what the per-frame rule would have said of the face
    fin.add(result(1, range(5), np.tile(face, (5, 1)), np.full(5, -3.0)), now=0.0)
    fin.add(result(2, range(5), np.tile(top, (5, 1)), np.full(5, -3.0)), now=0.0)
    assert [r.track_id for r in fin.poll(0.0)] == [1]
    assert fin.stats.dropped["duplicate"] == 1


def test_passthrough_releases_everything_at_once():
    fin = Finaliser.passthrough()
    frames, boxes = walk(0, 10, 0)
    observe(fin, 1, frames, boxes, score=0.1)
    fin.add(result(1, frames, boxes, np.full(10, -1e6)), now=0.0)
    assert [r.track_id for r in fin.poll(0.0)] == [1]


def test_merge_keeps_the_better_best_and_reranks_top():
    a = result(1, *walk(0, 5, 0), [-5, -4, -1, -6, -7])
    b = result(2, *walk(10, 5, 60), [-9, -2, -8, -8, -8])
    m = merge_results(a, b)
    assert m.best.quality == -1 and m.best.frame_index == 2 and m.top[0] is m.best
    m2 = merge_results(b, a)
    assert m2.track_id == 2 and m2.best.quality == -1 and m2.best.track_id == 2


def test_merge_keeps_every_finalist_of_both_fragments_for_the_face_vote():
    # the vote scores the finalists on its own scale: a fragment whose crops the selection rule
    # rates lower must not lose its finalists to the other's (issue 22)
    a = result(1, *walk(0, 5, 0), [-5, -4, -1, -6, -7])
    b = result(2, *walk(10, 5, 60), [-9, -2, -8, -8, -8])
    a.candidates = [a.best, dataclasses.replace(a.best, quality=-4.0, frame_index=1), dataclasses.replace(a.best, quality=-5.0, frame_index=0)]
    b.candidates = [b.best, dataclasses.replace(b.best, quality=-8.0, frame_index=12), dataclasses.replace(b.best, quality=-8.5, frame_index=13)]
    m = merge_results(a, b)
    assert [c.frame_index for c in m.candidates] == [2, 11, 1, 0, 12, 13]  # all six, best first
    assert m.candidates[0] is m.best and all(c.track_id == 1 for c in m.candidates)
    assert len(m.top) == 1  # the top observations keep their length


def test_landmark_residual_is_zero_for_the_template_and_grows_with_distortion():
    scaled = TEMPLATE * 3.0 + 40.0  # any similarity of the template is the template's layout
    assert landmark_residual(scaled) == pytest.approx(0.0, abs=1e-5)  # float32 template
    swapped = scaled[[2, 1, 0, 3, 4]]  # nose and left eye exchanged
    assert landmark_residual(swapped) > 0.3
    assert landmark_residual(np.zeros((5, 2))) == float("inf")


@pytest.mark.parametrize("bad", [{"grace_seconds": -1}, {"grace_seconds": float("nan")}, {"link": "yes"}, {"faceness": 3}])
def test_bad_settings_are_refused_naming_the_argument(bad):
    with pytest.raises((ValueError, TypeError), match=next(iter(bad))):
        Finaliser(**bad)


class NoFaces:
    def detect(self, frame):
        return Detections.empty()


def test_the_selector_runs_the_finaliser_by_default_and_its_settings_come_from_the_config():
    from facesel import Selector
    from facesel.scoring import LaplacianVarianceScorer

    default = Selector(NoFaces(), LaplacianVarianceScorer())
    assert isinstance(default.finaliser, Finaliser) and default.post_close == (default.finaliser,)
    assert default.finaliser.faceness.suppress_static and default.finaliser.link is not None
    assert Selector(NoFaces(), LaplacianVarianceScorer(), keep_static=True).finaliser.faceness.suppress_static is False
    off = Selector(NoFaces(), LaplacianVarianceScorer(), finalise=False)
    assert off.finaliser is None and off.post_close == ()


def test_the_selector_refuses_a_post_close_stage_without_process():
    from facesel import Selector
    from facesel.scoring import LaplacianVarianceScorer

    with pytest.raises(TypeError, match="post_close"):
        Selector(NoFaces(), LaplacianVarianceScorer(), post_close=[object()])


def orl_face_in_a_frame(shared_data):
    """An ORL photo (BGR) padded as a detector frame, and a box on its face."""
    from facesel.align import pad_for_detection
    from facesel.faceset import read_image

    photo = read_image(shared_data / "faces" / "orl" / "s1" / "1.pgm")
    if photo.ndim == 2:
        photo = np.repeat(photo[:, :, None], 3, axis=2)
    frame, dx, dy = pad_for_detection(photo)
    h, w = photo.shape[:2]
    return frame, np.array([dx + 0.1 * w, dy + 0.1 * h, dx + 0.9 * w, dy + 0.9 * h], np.float32)


def test_the_dose_vote_scores_a_real_face_above_the_floor_and_above_a_blank_wall(shared_data):
    from facesel.align import margin_crop
    from facesel.select.face_vote import DoseFaceVote
    from facesel.select.finalise import DOSE_FACE_FLOOR

    frame, box = orl_face_in_a_frame(shared_data)
    wall = np.full_like(frame, 128)
    vote = DoseFaceVote(margin=0.25)
    scores = []
    for image in (frame, wall):
        snap = Snapshot(margin_crop(image, box, 0.25), box, None, 0.0, 0, 0.0, 1)
        scores.append(vote(SelectedTrack(1, 0, 0, 0.0, 0.0, snap, np.zeros(1), np.zeros(1, np.int64))))
    assert scores[0] > DOSE_FACE_FLOOR > scores[1]


def test_the_vote_is_the_best_finalist_and_stops_once_one_clears_the_floor(shared_data):
    """A track whose kept crop shows a wall but one finalist a face is voted a face; with
    ``enough``, the finalists after the first one above it are not scored."""
    from facesel.align import margin_crop
    from facesel.select.face_vote import DoseFaceVote, shipped_vote_model
    from facesel.select.finalise import DOSE_FACE_FLOOR

    frame, box = orl_face_in_a_frame(shared_data)
    wall, face = (Snapshot(margin_crop(image, box, 0.25), box, None, 0.0, 0, 0.0, 1)
                  for image in (np.full_like(frame, 128), frame))

    class Counting:
        calls = 0

        def score(self, greys):
            Counting.calls += len(greys)
            return shipped_vote_model().score(greys)

    def track(best, candidates):
        return SelectedTrack(1, 0, 0, 0.0, 0.0, best, np.zeros(1), np.zeros(1, np.int64), candidates=candidates)

    alone = DoseFaceVote(0.25, scorer=Counting())(track(wall, []))
    voted = DoseFaceVote(0.25, scorer=Counting())(track(wall, [wall, face, wall]))
    assert alone < DOSE_FACE_FLOOR < voted
    Counting.calls = 0
    lazy = DoseFaceVote(0.25, scorer=Counting(), enough=DOSE_FACE_FLOOR)(track(wall, [wall, face, wall, face]))
    assert lazy == voted and Counting.calls == 2  # the kept wall, then the first face; "wall" is best itself
    with pytest.raises(TypeError, match="enough"):
        DoseFaceVote(0.25, enough="high")


@pytest.mark.parametrize("flags, finalise, keep_static", [
    ((), True, False), (("--no-finalise",), False, False), (("--keep-static",), True, True)])
def test_facesel_run_flags_of_the_finaliser_come_from_the_config(flags, finalise, keep_static):
    from facesel.cli import build_parser
    from facesel.cli.run import NOT_FLAGS
    from facesel.config import from_arguments

    config = from_arguments(build_parser().parse_args(["run", "video.mp4", *flags]), exclude=NOT_FLAGS)
    assert (config.finalise, config.keep_static) == (finalise, keep_static)
