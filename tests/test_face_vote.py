"""The not-a-face vote's batched, ordered scoring against scoring every crop one by one, on real
crops: faces of the shared photo sets and background patches of the arcade video (issue 23, speed)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from facesel.types import Snapshot

FLOOR = -68.0  # facesel.select.finalise.DOSE_FACE_FLOOR (asserted below)


def _snapshot(image, box, margin=0.25):
    from facesel.align import margin_crop

    box = np.asarray(box, np.float32)
    return Snapshot(margin_crop(image, box, margin), box, None, 0.0, 0, 0.0, 1)


@pytest.fixture(scope="module")
def real_snapshots(shared_data):
    """(faces, backgrounds): snapshots of four LFW and two ORL faces padded as detector frames,
    and of six patches of the arcade video's first frame above the walkers' heads."""
    from facesel.align import pad_for_detection
    from facesel.faceset import read_image
    from facesel.video import open_source

    paths = sorted((shared_data / "faces" / "lfw" / "eval").glob("*/*_0001.jpg"))[:4]
    paths += [shared_data / "faces" / "orl" / f"s{k}" / "1.pgm" for k in (1, 2)]
    faces = []
    for path in paths:
        photo = read_image(path)
        if photo.ndim == 2:
            photo = np.repeat(photo[:, :, None], 3, axis=2)
        frame, dx, dy = pad_for_detection(photo)
        h, w = photo.shape[:2]
        # LFW photos are 250 px with the face in the middle third; ORL photos are the face.
        inset = 0.3 if h >= 200 else 0.1
        faces.append(_snapshot(frame, [dx + inset * w, dy + inset * h, dx + (1 - inset) * w, dy + (1 - inset) * h]))
    frame = next(iter(open_source(shared_data / "videos" / "arcade_walkers_1080p.mp4")))[0]
    backgrounds = [_snapshot(frame, [x, 20, x + 150, 170]) for x in (40, 300, 560, 820, 1080, 1340)]
    return faces, backgrounds


def _track(best, candidates):
    from facesel.select.tracklog import SelectedTrack

    return SelectedTrack(1, 0, 0, 0.0, 0.0, best, np.zeros(1), np.zeros(1, np.int64), candidates=list(candidates))


def _one_by_one(vote, snaps, enough=None):
    """The vote before batching: each snapshot re-aligned and scored alone, kept crop first,
    stopping at the first that reaches ``enough``."""
    from facesel.select.face_vote import shipped_vote_model

    best = -np.inf
    for snap in snaps:
        best = max(best, float(shipped_vote_model().score(vote._grey(snap)[None])[0]))
        if enough is not None and best >= enough:
            break
    return best


class Counting:
    """The shipped vote model, counting the crops it is asked to score and the calls."""

    def __init__(self, with_calibration=True):
        from facesel.select.face_vote import shipped_vote_model

        self.model = shipped_vote_model()
        if with_calibration:
            self.calibration, self.method = self.model.calibration, self.model.method
        self.crops = self.calls = 0

    def score(self, greys):
        self.crops += len(greys)
        self.calls += 1
        return self.model.score(greys)


def test_the_floor_here_is_the_finalisers():
    from facesel.select.finalise import DOSE_FACE_FLOOR

    assert FLOOR == DOSE_FACE_FLOOR


def test_a_batch_scores_each_real_crop_as_scoring_it_alone(real_snapshots):
    from facesel.select.face_vote import DoseFaceVote, shipped_vote_model

    faces, backgrounds = real_snapshots
    vote = DoseFaceVote(0.25)
    greys = np.stack([vote._grey(s) for s in faces + backgrounds])
    model = shipped_vote_model()
    alone = np.array([model.score(g[None])[0] for g in greys])
    together = model.score(greys)
    if model.runner.encoder.get_providers()[0] == "CPUExecutionProvider":
        np.testing.assert_array_equal(together, alone)  # every bit: the votes cannot move
    else:  # a GPU's kernels may depend on the batch in the last bits
        np.testing.assert_allclose(together, alone, rtol=1e-5, atol=1e-4)
    # the material has both sides of the floor, so the next tests test verdicts of both kinds
    assert (alone[: len(faces)] >= FLOOR).sum() >= 2 and (alone[len(faces):] < FLOOR).sum() >= 2


@pytest.mark.parametrize("kept, finalists", [
    ("b0", ["b1", "b2", "f0"]),           # a face among background finalists: the verdict is "face"
    ("b0", ["b1", "b2", "b3", "b4"]),     # background only: every crop scored, the best kept
    ("f1", ["f2", "b0", "f3"]),           # faces first
    ("b5", ["f4", "f5", "b0", "b1", "b2"]),
    ("f0", []),                           # the kept crop alone
])
def test_the_batched_vote_gives_the_verdict_and_value_of_scoring_one_by_one(real_snapshots, kept, finalists):
    from facesel.select.face_vote import DoseFaceVote

    faces, backgrounds = real_snapshots
    pick = {**{f"f{k}": s for k, s in enumerate(faces)}, **{f"b{k}": s for k, s in enumerate(backgrounds)}}
    best, candidates = pick[kept], [pick[name] for name in finalists]
    snaps = [best] + candidates
    every = _one_by_one(DoseFaceVote(0.25), snaps)
    assert DoseFaceVote(0.25)(_track(best, candidates)) == pytest.approx(every, rel=1e-9, abs=1e-9)
    before = _one_by_one(DoseFaceVote(0.25), snaps, enough=FLOOR)
    after = DoseFaceVote(0.25, enough=FLOOR)(_track(best, candidates))
    assert (after >= FLOOR) == (before >= FLOOR) == (every >= FLOOR)
    if every < FLOOR:  # a track voted not a face scored every crop: the same value (the drop's log line)
        assert after == pytest.approx(every, rel=1e-9, abs=1e-9)
    else:  # a face: the first crop that cleared, one of the track's own scores
        singles = [_one_by_one(DoseFaceVote(0.25), [s]) for s in snaps]
        assert min(abs(after - s) for s in singles) <= 1e-9 * max(1.0, abs(after))


def test_the_most_promising_crop_is_scored_first_and_alone(real_snapshots):
    """Four background finalists before a face: the face has the highest attainable score, so it
    is scored first, clears the floor, and no background crop reaches the VAE. Without a dose
    calibration on the scorer, the kept crop comes first: one call for it, one batch for the rest."""
    from facesel.select.face_vote import DoseFaceVote

    faces, backgrounds = real_snapshots
    track = _track(backgrounds[0], backgrounds[1:5] + [faces[0]])
    ordered = Counting()
    assert DoseFaceVote(0.25, scorer=ordered, enough=FLOOR)(track) >= FLOOR
    assert (ordered.crops, ordered.calls) == (1, 1)
    plain = Counting(with_calibration=False)
    assert DoseFaceVote(0.25, scorer=plain, enough=FLOOR)(track) >= FLOOR
    assert (plain.crops, plain.calls) == (6, 2)


def test_the_ceiling_bounds_the_dose_score_of_real_crops(real_snapshots):
    from facesel.scoring.vae_methods import mahalanobis_ceiling
    from facesel.select.face_vote import DoseFaceVote, shipped_vote_model

    faces, backgrounds = real_snapshots
    greys = np.stack([DoseFaceVote(0.25)._grey(s) for s in faces + backgrounds])
    model = shipped_vote_model()
    ceiling = mahalanobis_ceiling(greys, model.calibration, "dose")
    assert ceiling.shape == (len(greys),)
    assert (ceiling >= model.score(greys) - 1e-9).all()
    assert mahalanobis_ceiling(greys, {}, "dose") is None


def test_a_crop_shown_by_two_snapshots_is_scored_once(real_snapshots):
    """The same observation as the kept crop and as a finalist (a copy, as merging and the
    consensus pick make them) reaches the VAE once."""
    from facesel.select.face_vote import DoseFaceVote

    _, backgrounds = real_snapshots
    copy = dataclasses.replace(backgrounds[0], track_id=7)
    counting = Counting()
    vote = DoseFaceVote(0.25, scorer=counting)(_track(backgrounds[0], [copy, backgrounds[1], copy]))
    assert counting.crops == 2
    assert vote == pytest.approx(_one_by_one(DoseFaceVote(0.25), backgrounds[:2]), rel=1e-9, abs=1e-9)


def test_a_crop_the_pick_rule_scored_already_is_not_scored_again(real_snapshots):
    """The pick rule's dose term is the vote's rule on the same VAE pass: the finaliser's vote
    reads those scores (the same value as scoring again) and runs the VAE only on the others."""
    from facesel.scoring import default_scorer
    from facesel.select.face_vote import DoseFaceVote
    from facesel.select.finalise import Finaliser
    from facesel.types import CropContext

    _, backgrounds = real_snapshots
    pick = default_scorer("pick")
    vote = Finaliser.for_scorer(pick).face_vote
    assert vote.known is pick.dose_memo and Finaliser.for_scorer(default_scorer()).face_vote.known is None
    greys = np.stack([vote._grey(s) for s in backgrounds[:3]])  # the pipeline's crops of three finalists
    n = len(greys)
    context = CropContext(boxes=np.tile(np.array([[0, 0, 64, 64]], np.float32), (n, 1)),
                          det_scores=np.full(n, 0.9, np.float32), landmarks=None, frame_shape=(1080, 1920))
    pick.score(greys, context)
    track = _track(backgrounds[0], backgrounds[1:4])  # the fourth crop was never scored
    for enough in (None, FLOOR):
        counting = Counting()
        reused = DoseFaceVote(0.25, scorer=counting, enough=enough, known=pick.dose_memo)(track)
        assert counting.crops == 1
        assert reused == pytest.approx(DoseFaceVote(0.25, enough=enough)(track), rel=1e-9, abs=1e-9)
    counting = Counting()
    assert DoseFaceVote(0.25, scorer=counting, enough=FLOOR, known=pick.dose_memo)(_track(backgrounds[0], [])) < FLOOR
    assert counting.crops == 0
    with pytest.raises(TypeError, match="known"):
        DoseFaceVote(0.25, known=object())


def test_the_score_memo_finds_exactly_the_crops_it_stored_and_forgets_the_oldest():
    from facesel.scoring.score_memo import ScoreMemo

    crops = np.stack([np.full((64, 64), k, np.uint8) for k in range(4)])
    memo = ScoreMemo(capacity=3)
    memo.put(crops[:3], [-1.0, -2.0, -3.0])
    assert memo.get(crops[1]) == -2.0
    changed = crops[1].copy()
    changed[10, 10] += 1
    assert memo.get(changed) is None  # one pixel off: not the crop that was scored
    assert memo.get(crops[1].astype(np.int16)) is None  # same values, another dtype
    memo.put(crops[3:], [-4.0])  # the least recently used (crop 0; crop 1 was just read) goes
    assert len(memo) == 3 and memo.get(crops[0]) is None and memo.get(crops[1]) == -2.0 and memo.get(crops[3]) == -4.0
    with pytest.raises(ValueError, match="capacity"):
        ScoreMemo(capacity=0)
    with pytest.raises(ValueError, match="scores"):
        memo.put(crops[:2], [1.0])


def _walking_track(fin, track_id, best, candidates, score, x0, still=False):
    """Observations of a box walking right (or standing still) at detector confidence ``score``
    in ``fin``'s evidence book, and the track's result with these snapshots."""
    from facesel.select.tracklog import SelectedTrack
    from facesel.types import Detections

    frames = np.arange(100 * track_id, 100 * track_id + 75)
    x = x0 + (0.0 if still else 4.0) * (frames - frames[0])
    boxes = np.stack([x, np.full(75, 100.0), x + 40, np.full(75, 140.0)], axis=1).astype(np.float32)
    for f, b in zip(frames, boxes):
        fin.evidence.observe_frame([track_id], Detections(b[None], [score]), f / 25.0, int(f))
    return SelectedTrack(track_id, int(frames[0]), int(frames[-1]), frames[0] / 25.0, frames[-1] / 25.0,
                         dataclasses.replace(best, track_id=track_id), np.zeros(75), frames, boxes=boxes,
                         candidates=list(candidates))


def test_tracks_judged_together_share_two_vae_calls_and_keep_their_verdicts(real_snapshots):
    """Five tracks released in one poll: three the detector doubts (a face among background
    finalists, background only, a face), one it is sure of, one standing still. The votes take
    two scorer calls in all, and every verdict, drop and counter is that of voting track by track."""
    from facesel.select.face_vote import DoseFaceVote
    from facesel.select.faceness import FacenessRule
    from facesel.select.finalise import Finaliser

    faces, backgrounds = real_snapshots
    tracks = [(1, backgrounds[0], [backgrounds[1], faces[0]], 0.6, False), (2, backgrounds[2], backgrounds[3:5], 0.6, False),
              (3, faces[1], [], 0.6, False), (4, backgrounds[0], [], 0.95, False), (5, backgrounds[1], [], 0.6, True)]
    outcomes = []
    for together in (True, False):
        counting = Counting()
        vote = DoseFaceVote(0.25, scorer=counting, enough=FLOOR)
        fin = Finaliser(grace_seconds=0.0, faceness=FacenessRule(min_quality=FLOOR),
                        face_vote=vote if together else (lambda result, vote=vote: vote(result)))
        for track_id, best, candidates, score, still in tracks:
            fin.add(_walking_track(fin, track_id, best, candidates, score, 300 * track_id, still), now=0.0)
        asked = [fin.faceness.asks_quality(e) for e in (h.evidence for h in fin._held.values())]
        released = [r.track_id for r in fin.poll(0.0)]
        outcomes.append((released, fin.drops, fin.stats.as_dict()))
        if together:
            assert asked == [True, True, True, False, False]
            assert counting.calls == 2  # the three most promising crops, then track 2's other two
            assert counting.crops == 5
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] == [1, 3, 4] and outcomes[0][1] == [(2, "not_face"), (5, "static")]


def test_asks_quality_is_when_judge_asks(real_snapshots):
    from facesel.select.faceness import FacenessRule
    from facesel.select.finalise import Finaliser

    faces, _ = real_snapshots
    for rule in (FacenessRule(min_quality=FLOOR), FacenessRule(min_quality=FLOOR, suppress_static=False), FacenessRule()):
        fin = Finaliser(grace_seconds=0.0, faceness=rule)
        for track_id, score, still in ((1, 0.6, False), (2, 0.95, False), (3, 0.6, True), (4, 0.95, True)):
            fin.add(_walking_track(fin, track_id, faces[0], [], score, 300 * track_id, still), now=0.0)
        for held in fin._held.values():
            calls = []
            rule.judge(held.evidence, lambda calls=calls: calls.append(1) or -100.0)
            assert rule.asks_quality(held.evidence) == bool(calls)
