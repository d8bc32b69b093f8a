"""The shot-return link (issue 23, session 20): a track a scene cut ended is continued after the cut
back to its shot, at its place and size, with close colours; never without colours, never when
the shot that comes back is another one.

First on hand-made evidence (:class:`facesel.select.evidence.TrackEvidence`, thumbnails of flat
grey levels), then on TV-style intercut real clips from the shared folder (the ``shared_data``
fixture; made in memory by :mod:`facesel.eval.intercut`, never written).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from facesel.select.evidence import TrackEvidence
from facesel.select.shot_return import EARLIEST_WEIGHT, SHOT_RETURN_OFFSET, ShotMemory, ShotReturnRule


def _colours(level: float) -> np.ndarray:
    """(2, 64) float32 histograms with all their weight in bin ``int(level)`` (face) and 0 (band)."""
    out = np.zeros((2, 64), np.float32)
    out[0, int(level)] = 1.0
    out[1, 0] = 1.0
    return out


def _evidence(frames, box, colours) -> TrackEvidence:
    """A track seen on ``frames`` (at 25 fps) at ``box`` (x1, y1, x2, y2) with ``colours`` (or None)."""
    e = TrackEvidence()
    for f in frames:
        e.add(np.asarray(box, np.float64), 0.9, None, f / 25.0, f, False)
        if colours is not None:
            e.colour_last(colours)
    return e


def _thumb(level: float) -> np.ndarray:
    return np.full((27, 48), level, np.float32)


def _memory(back_level: float = 100.0) -> ShotMemory:
    """Cuts on frames 50 (shot A, grey 100, to shot B, grey 30) and 100 (B to ``back_level``)."""
    memory = ShotMemory(ShotReturnRule())
    memory.record(50, 2.0, _thumb(100), _thumb(30))
    memory.record(100, 4.0, _thumb(30), _thumb(back_level))
    return memory


A_BOX = (100, 100, 200, 200)


def test_a_track_is_continued_after_the_cut_back_to_its_shot():
    a1 = _evidence(range(0, 50), A_BOX, _colours(5))
    a2 = _evidence(range(101, 150), (110, 105, 210, 205), _colours(5))  # found a frame after the cut
    cost = _memory().cost(a1, a2)
    gap = EARLIEST_WEIGHT * (101 - 49) / 25.0  # the first return preferred (persons26): 100 a second of gap
    assert cost is not None and SHOT_RETURN_OFFSET <= cost - gap < SHOT_RETURN_OFFSET + 0.2
    assert _memory().holds(a1)  # a cut ended it: held for the return


def test_another_shot_or_another_place_or_other_colours_or_none_refuse():
    a1 = _evidence(range(0, 50), A_BOX, _colours(5))
    a2 = _evidence(range(101, 150), A_BOX, _colours(5))
    assert _memory(back_level=160).cost(a1, a2) is None  # the cut back shows another shot
    assert _memory().cost(a1, _evidence(range(101, 150), (300, 100, 400, 200), _colours(5))) is None  # elsewhere
    assert _memory().cost(a1, _evidence(range(101, 150), (90, 90, 260, 260), _colours(5))) is None  # 1.7x the size
    assert _memory().cost(a1, _evidence(range(101, 150), A_BOX, _colours(40))) is None  # other clothes / hair
    assert _memory().cost(a1, _evidence(range(101, 150), A_BOX, None)) is None  # no colours: never
    assert _memory().cost(a1, _evidence(range(120, 150), A_BOX, _colours(5))) is None  # starts 0.8 s after the cut


def test_only_a_track_that_a_cut_ended_is_held_and_continued():
    memory = _memory()
    ended_before = _evidence(range(0, 40), A_BOX, _colours(5))  # last seen 0.44 s before the cut
    assert not memory.holds(ended_before)
    assert memory.cost(ended_before, _evidence(range(101, 150), A_BOX, _colours(5))) is None
    # a cut in between: the track starts in a third shot, not at the return
    memory.record(110, 4.4, _thumb(100), _thumb(200))
    assert memory.cost(_evidence(range(0, 50), A_BOX, _colours(5)), _evidence(range(111, 150), A_BOX, _colours(5))) is None


def test_a_new_stream_forgets_the_cuts_and_bad_settings_are_named():
    memory = _memory()
    memory.record(10, 0.4, _thumb(0), _thumb(50))  # frame numbers started again
    assert len(memory.cuts) == 1
    with pytest.raises(ValueError, match="thumb_distance"):
        ShotReturnRule(thumb_distance=-1)
    with pytest.raises(ValueError, match="max_size_ratio"):
        ShotReturnRule(max_size_ratio=0.5)
    with pytest.raises(ValueError, match="shots"):
        ShotReturnRule(shots=0)
    with pytest.raises(TypeError, match="ShotReturnRule"):
        ShotMemory("loose")


def test_the_shot_cut_veto_refuses_only_where_the_later_track_starts_on_another_shot():
    # session 21: the cut veto only when the shot after the last cut between two fragments is not
    # the shot before the first (a sudden occluder fires the cut cue twice and leaves the scene as it was)
    earlier = _evidence(range(0, 50), A_BOX, _colours(5))
    later = _evidence(range(66, 120), A_BOX, _colours(5))
    cut_away = ShotMemory(ShotReturnRule())
    cut_away.record(50, 2.0, _thumb(100), _thumb(30))  # a cut to another camera
    assert cut_away.cut_between(earlier, later) and cut_away.shot_changed(earlier, later)
    blanked = ShotMemory(ShotReturnRule())
    blanked.record(50, 2.0, _thumb(100), _thumb(75))  # a grey patch covers a quarter of the frame ...
    blanked.record(65, 2.6, _thumb(75), _thumb(100.5))  # ... and is gone 15 frames later
    assert blanked.cut_between(earlier, later) and not blanked.shot_changed(earlier, later)
    stays = ShotMemory(ShotReturnRule())
    stays.record(50, 2.0, _thumb(100), _thumb(75))  # the occluder's leaving fired no cut: vetoed
    assert stays.shot_changed(earlier, later)
    assert not ShotMemory(ShotReturnRule()).shot_changed(earlier, later)  # no cut remembered: no veto


def test_the_finaliser_applies_the_shot_cut_veto_and_names_a_bad_value():
    from facesel.select.finalise import Finaliser
    from facesel.select.linking import LinkRule

    earlier = _evidence(range(0, 50), A_BOX, _colours(5))
    later = _evidence(range(66, 120), A_BOX, _colours(5))
    every, shot = Finaliser(link=LinkRule(), cut_veto=True), Finaliser(link=LinkRule(), cut_veto="shot")
    for finaliser in (every, shot):
        finaliser.shots.record(50, 2.0, _thumb(100), _thumb(75))
        finaliser.shots.record(65, 2.6, _thumb(75), _thumb(100))
    assert every._across_cut(earlier, later) and not shot._across_cut(earlier, later)
    shot.shots.record(80, 3.2, _thumb(100), _thumb(20))  # a cut to another shot before a track starting at 81
    assert shot._across_cut(earlier, _evidence(range(81, 120), A_BOX, _colours(5)))
    with pytest.raises(ValueError, match="cut_veto"):
        Finaliser(link=LinkRule(), cut_veto="sometimes")


# -- real clips, intercut in memory ------------------------------------------------------------------

@pytest.fixture(scope="module")
def detector():
    from facesel.config import PipelineConfig
    from facesel.selector import default_detector

    cv2.setNumThreads(1)
    return default_detector(PipelineConfig())


def _piece(root, family: str, kind: str, index: int = 0):
    """The ``index``-th interview or control of ``family`` (:func:`facesel.eval.intercut.material`)."""
    from facesel.eval import intercut

    pieces = [(clips, frames, owner) for fam, k, clips, frames, owner in intercut.material(root, families_only=[family])
              if k == kind]
    return pieces[index]


def _run(detector, frames, owner, **finaliser):
    from facesel.eval.intercut import run_intercut
    from facesel.scoring import LaplacianVarianceScorer

    return run_intercut(frames, owner, 25.0, detector, LaplacianVarianceScorer(), **finaliser)


def test_an_interview_gives_each_person_one_snapshot_with_the_shot_return_link(shared_data, detector):
    # two retalking talking heads cut A | B | A | B | A | B, 2 s a shot
    clips, frames, owner = _piece(shared_data, "retalking", "interview")
    assert len(frames) == 300 and sorted(set(owner)) == [0, 1]
    off = _run(detector, frames, owner, shot_return=None, cut_veto=False)
    assert off["per_person"] == {0: 3, 1: 3}  # without the link every return of a shot is a new snapshot
    on = _run(detector, frames, owner)  # the pipeline's default: the link on
    assert on["per_person"] == {0: 1, 1: 1} and on["wrong_joins"] == 0
    assert len(on["shot_returns"]) == 4  # A1-A2, A2-A3, B1-B2, B2-B3


def test_a_different_signer_in_the_same_office_is_not_joined(shared_data, detector):
    # A | B | C, three different signers in one office and framing: C appears where A was
    clips, frames, owner = _piece(shared_data, "signers", "control", index=2)
    on = _run(detector, frames, owner)
    assert on["wrong_joins"] == 0 and on["per_person"] == {0: 1, 1: 1, 2: 1}
    assert on["shot_returns"] == []


def test_the_cut_veto_keeps_the_next_signer_at_the_same_place_apart(shared_data, detector):
    # two signers cut A | B | A | B | A | B: the sparse detector misses B's face on the new shot's
    # first frames, the track on A dies unmarked, and the short link took B's track as A's
    clips, frames, owner = _piece(shared_data, "signers", "interview", index=1)
    before = _run(detector, frames, owner, shot_return=None, cut_veto=False)
    assert before["wrong_joins"] == 1 and before["snapshots"] == 1  # one snapshot for two people
    now = _run(detector, frames, owner, cut_veto=True)  # with the shot-return link (the default)
    assert now["wrong_joins"] == 0 and set(now["per_person"]) == {0, 1}
    assert sum(now["per_person"].values()) <= 3  # the returns are still continued
    # session 21: the veto only where the later track starts on another shot keeps them apart
    # too (B's office framing differs from A's by clothes, pose and light at 48x27)
    start = _run(detector, frames, owner, cut_veto="start")
    assert start["wrong_joins"] == 0 and start["per_person"] == {0: 1, 1: 1}


def test_the_shot_cut_veto_leaves_the_same_framing_control_one_snapshot_each(shared_data, detector):
    # A | B | C, three signers in one office (the control above): the veto changes nothing there
    clips, frames, owner = _piece(shared_data, "signers", "control", index=2)
    start = _run(detector, frames, owner, cut_veto="start")
    assert start["wrong_joins"] == 0 and start["per_person"] == {0: 1, 1: 1, 2: 1}


def test_the_defaults_can_be_turned_off_in_the_config():
    from facesel.config import PipelineConfig
    from facesel.scoring import LaplacianVarianceScorer
    from facesel.select.finalise import Finaliser

    scorer = LaplacianVarianceScorer()
    default = Finaliser.for_config(PipelineConfig(), scorer)
    assert default.shot_return and default.cut_veto == "start" and default.shots.rule == ShotReturnRule()
    off = Finaliser.for_config(PipelineConfig(shot_return=False, shot_cut_veto=False), scorer)
    assert not off.shot_return and not off.cut_veto and off.shots is None
    veto = Finaliser.for_config(PipelineConfig(shot_return=False, cut_veto=True), scorer)
    assert veto.cut_veto and not veto.shot_return and veto.shots is not None
    no_veto = Finaliser.for_config(PipelineConfig(shot_cut_veto=False), scorer)
    assert no_veto.cut_veto is False and no_veto.shot_return


def test_a_replayed_recording_keeps_the_cuts_for_the_link(shared_data, detector):
    # experiments record a run once and replay it through many finalisers (facesel.eval.crowds_replay):
    # the recording must carry the cuts' thumbnails, or every replay runs with the link silently off
    from facesel.eval.crowds_replay import record, replay
    from facesel.scoring import LaplacianVarianceScorer
    from facesel.select.finalise import Finaliser

    clips, frames, owner = _piece(shared_data, "retalking", "interview")
    scorer = LaplacianVarianceScorer()
    recording = record(frames, detector, scorer, 25.0)
    finaliser = Finaliser.for_scorer(scorer)
    delivered = replay(recording, finaliser)
    assert len(finaliser.shot_returns) == 4  # as live (the test above): A1-A2, A2-A3, B1-B2, B2-B3
    assert sorted(owner[int(r.best.frame_index)] for r in delivered) == [0, 1]
    off = replay(recording, Finaliser.for_scorer(scorer, shot_return=None))
    assert len(off) == 6


def test_eval_crowds_turns_the_link_off_with_any_link_rule(shared_data, detector):
    # `facesel eval crowds --no-shot-return` (settings shot_return=False) must hold when a link rule
    # is given too (--covered-link, --short-link, ...): the finaliser is then built by the evaluation
    from facesel.eval.crowds import run_crowd
    from facesel.scoring import LaplacianVarianceScorer
    from facesel.select.linking import LinkRule

    clips, frames, owner = _piece(shared_data, "retalking", "interview")
    scorer = LaplacianVarianceScorer()
    shape = frames[0].shape[:2]
    on = run_crowd(frames, shape, 1, 25.0, detector, scorer, link=LinkRule())
    off = run_crowd(frames, shape, 1, 25.0, detector, scorer, link=LinkRule(), shot_return=False)
    assert on["finaliser"]["cuts"] == 5 and on["snapshots"] == 2  # A | B | A | B | A | B: one a person
    assert off["snapshots"] == 6  # every return of a shot a new snapshot (the cut veto, on, keeps the cuts)
