"""Hedged links (``Finaliser(hedge=HedgeRule(...))``, off by default; docs/persons.md "Hedged links").

Hand-made tracks of one face, box side 40 px, at 25 fps: fragment 1 (frames 0-40, x = 100) and
fragment 2 (frames 45-60) a little aside, then fragment 3 (frames 63-80) at fragment 2's place.
The short link joins them; a hedge makes the same links but delivers each side of a doubtful
one as its own result. The real-data case is a crossing crowd of the shared clips.
"""

from __future__ import annotations

import numpy as np
import pytest
from facesel.select.finalise import Finaliser
from facesel.select.hedging import REASONS, HedgeRule, joined_parts
from facesel.select.linking import LinkRule
from facesel.select.tracklog import SelectedTrack
from evidence_helpers import stream_tracks
from facesel.types import Snapshot

FPS = 25.0
SIDE = 40.0


def _box(x: float) -> np.ndarray:
    return np.array([x - SIDE / 2, 100 - SIDE / 2, x + SIDE / 2, 100 + SIDE / 2], np.float32)


def _result(track_id: int, frames, x: float, quality: float) -> SelectedTrack:
    """A closed track's result: ``frames`` (K,) int64, boxes (K, 4) float32 at x = ``x``."""
    frames = np.asarray(list(frames), np.int64)
    boxes = np.stack([_box(x) for _ in frames])
    best = Snapshot(np.zeros((4, 4, 3), np.uint8), boxes[0], None, quality, int(frames[0]), frames[0] / FPS, track_id)
    return SelectedTrack(track_id, int(frames[0]), int(frames[-1]), frames[0] / FPS, frames[-1] / FPS, best,
                         np.full(len(frames), quality), frames, boxes=boxes, top=[best])


def _run(hedge, aside: float, third: bool = False, close_late: bool = False):
    """Stream the fragments (fragment 2 ``aside`` px to the right of 1; with ``third`` fragment 3
    at 2's place; ``close_late``: fragment 2 closes only at frame 90, so fragment 1 is asked while
    2 is open); (delivered results, finaliser)."""
    spans = {1: range(0, 41), 2: range(45, 61)}
    x_of = {1: 100.0, 2: 100.0 + aside, 3: 100.0 + aside}
    closes = {1: 41, 2: 90 if close_late else 61}
    if third:
        spans[3], closes[3] = range(63, 81), 81
    quality = {1: 0.9, 2: 0.8, 3: 0.7}
    fin = Finaliser(grace_seconds=1.0, link=LinkRule(), faceness=None, hedge=hedge)
    out = stream_tracks(fin, spans, closes, lambda t: _box(x_of[t]), lambda t: _result(t, spans[t], x_of[t], quality[t]),
                        200, FPS)
    return [r for _, r in out], fin


def test_off_by_default_and_a_link_with_nothing_set_is_never_doubtful():
    assert Finaliser().hedge is None
    out, fin = _run(None, 24.0)
    assert [int(r.track_id) for r in out] == [1] and fin.links == [(1, 2)] and fin.hedges == []
    out, fin = _run(HedgeRule(), 24.0)  # nothing asked: the default's behaviour
    assert [int(r.track_id) for r in out] == [1] and fin.links == [(1, 2)] and fin.stats.hedged == 0


def test_a_link_near_the_position_limit_delivers_both_sides():
    # 24 px = 0.6 box sides at a 0.16 s gap: the allowance is 0.75 + 0.16 = 0.91 sides, 66 % of it
    out, fin = _run(HedgeRule(position=0.5), 24.0)
    assert sorted(int(r.track_id) for r in out) == [1, 2]
    assert fin.links == [] and fin.hedges == [(1, 2, "position")] and fin.stats.hedged == 1
    assert fin.stats.merged == 1 and fin.stats.released == 1  # one chain, as without the hedge
    by_id = {int(r.track_id): r for r in out}
    assert by_id[1].frame_indices.tolist() == list(range(0, 41))  # each side keeps its own frames and best crop
    assert by_id[2].frame_indices.tolist() == list(range(45, 61)) and by_id[2].best.quality == pytest.approx(0.8)


def test_a_link_well_inside_the_gates_is_not_hedged():
    out, fin = _run(HedgeRule(position=0.5), 4.0)  # 0.1 box sides: 11 % of the allowance
    assert [int(r.track_id) for r in out] == [1] and fin.links == [(1, 2)] and fin.hedges == []


def test_the_gap_criterion():
    out, fin = _run(HedgeRule(gap=0.1), 4.0)  # the gap, 0.16 s, is 16 % of the short link's 1 s
    assert fin.hedges == [(1, 2, "gap")] and len(out) == 2
    out, fin = _run(HedgeRule(gap=0.5), 4.0)
    assert fin.hedges == [] and len(out) == 1


def test_a_chain_goes_on_after_a_hedged_link_and_later_links_join_the_later_side():
    out, fin = _run(HedgeRule(position=0.5), 24.0, third=True)
    assert fin.hedges == [(1, 2, "position")] and fin.links == [(2, 3)]  # 2 -> 3: recorded from the later side
    by_id = {int(r.track_id): r for r in out}
    assert sorted(by_id) == [1, 2]
    assert by_id[2].frame_indices.tolist() == list(range(45, 61)) + list(range(63, 81))
    assert by_id[2].best.quality == pytest.approx(0.8)  # the better of fragments 2 and 3


def test_a_hedged_link_to_an_open_successor():
    out, fin = _run(HedgeRule(position=0.5), 24.0, close_late=True)
    assert fin.hedges == [(1, 2, "position")] and sorted(int(r.track_id) for r in out) == [1, 2]
    out, fin = _run(HedgeRule(position=0.5), 4.0, close_late=True)
    assert fin.links == [(1, 2)] and [int(r.track_id) for r in out] == [1]


def test_a_chain_the_verdict_drops_delivers_no_part():
    from facesel.select.faceness import NOT_FACE, FacenessRule

    class Never(FacenessRule):
        def judge(self, evidence, quality):
            return NOT_FACE

    fin_out, fin = _run(HedgeRule(position=0.5), 24.0)
    assert len(fin_out) == 2
    fin = Finaliser(grace_seconds=1.0, link=LinkRule(), faceness=Never(), hedge=HedgeRule(position=0.5))
    # the same stream through a finaliser whose verdict drops everything
    spans, closes = {1: range(0, 41), 2: range(45, 61)}, {1: 41, 2: 61}
    out = stream_tracks(fin, spans, closes, lambda t: _box(100.0 + 24.0 * (t == 2)),
                        lambda t: _result(t, spans[t], 100.0 + 24.0 * (t == 2), 0.9), 150, FPS)
    assert out == [] and fin.hedges and fin.stats.hedged == 0 and fin.stats.dropped[NOT_FACE] == 1


def test_joined_parts():
    def merge(a, b):
        return a + b

    assert joined_parts(["a"], ["b"], False, merge) == ["ab"]
    assert joined_parts(["a"], ["b"], True, merge) == ["a", "b"]
    assert joined_parts(["a", "b"], ["c", "d"], False, merge) == ["a", "bc", "d"]


@pytest.mark.parametrize("field, value", [("colour", 0.0), ("colour", 1.5), ("position", -0.1), ("gap", float("nan")),
                                          ("without_colours", 1), ("after_cue", "yes"), ("crowd", 0), ("crowd", 1.5),
                                          ("crowd", True)])
def test_settings_are_validated_naming_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        HedgeRule(**{field: value})


def test_numpy_numbers_are_taken_as_numbers():
    """Review 17b: ``HedgeRule(crowd=np.int64(3))`` was refused as "crowd must be an integer >= 1",
    and ``colour=np.float32(0.6)`` as "not a finite number", while np.float64 passed."""
    import numpy as np

    rule = HedgeRule(colour=np.float32(0.5), position=np.float64(0.25), gap=np.float16(0.5), crowd=np.int64(3))
    assert (rule.colour, rule.position, rule.gap, rule.crowd) == (0.5, 0.25, 0.5, 3)
    assert type(rule.colour) is float and type(rule.crowd) is int
    assert rule == HedgeRule(colour=0.5, position=0.25, gap=0.5, crowd=3)
    for field, value in (("crowd", np.float64(2.0)), ("crowd", np.bool_(True)), ("colour", np.float32("nan")),
                         ("gap", np.int64(0))):
        with pytest.raises(ValueError, match=field):
            HedgeRule(**{field: value})


def test_the_finaliser_checks_the_hedge_type():
    with pytest.raises(TypeError, match="hedge"):
        Finaliser(hedge={"colour": 0.6})


def test_reasons_are_named():
    assert set(REASONS) == {"colour", "no colours", "position", "gap", "cue", "crowd"}
    out, fin = _run(HedgeRule(without_colours=True), 4.0)  # the hand-made tracks have no colours
    assert fin.hedges == [(1, 2, "no colours")]


# -- real data ---------------------------------------------------------------------------------------

def test_real_crossing_crowd_the_hedge_keeps_both_walkers_of_a_wrong_join(shared_data):
    """The first LivePortrait crossing crowd, walk 0 (docs/persons.md "Crossing crowds"): the
    default joins a walker who went behind a nearer one to another walker who came in by the left
    edge 0.6 s later, more than half the position allowance from where the first was going. With
    the position hedge the same links are made, the joins of two walkers are no longer delivered as
    one snapshot, and no walker the default gave a snapshot loses it."""
    import cv2
    from facesel.detect import make_detector
    from facesel.eval import crowds
    from facesel.eval.crowds_crossing import crossing_crowd
    from facesel.eval.crowds_replay import crowd_figures, record, replay
    from facesel.select.faceness import FacenessRule
    from facesel.select.finalise import DOSE_FACE_FLOOR
    from facesel.selector import default_scorer

    cv2.setNumThreads(1)
    clips = next(g for f, g in crowds.crowds_of(crowds.families(shared_data), 6) if f == "liveportrait")
    frames, truth = crossing_crowd(clips, 200, layout=0)
    scorer = default_scorer()
    recording = record(frames, make_detector(max_side=1280), scorer, 25.0, locate=truth.person_at, keep_static=True)
    runs = {}
    for name, hedge in (("default", None), ("hedge", HedgeRule(position=0.5))):
        fin = Finaliser.for_scorer(scorer, 0.25, faceness=FacenessRule(min_quality=DOSE_FACE_FLOOR, suppress_static=False),
                                   hedge=hedge)
        delivered = replay(recording, fin)
        runs[name] = (crowd_figures(recording, delivered, fin.links, None, truth=truth), fin, delivered)
    (base, fin0, out0), (hedged, fin1, out1) = runs["default"], runs["hedge"]
    assert base["wrong_joins"] >= 1 and fin0.hedges == []
    assert len(fin1.links) + len(fin1.hedges) == len(fin0.links)  # the same links, some of them hedged
    assert fin1.hedges and all(why == "position" for _, _, why in fin1.hedges)
    assert hedged["wrong_joins"] < base["wrong_joins"]
    assert len(out1) == len(out0) + fin1.stats.hedged
    assert hedged["tracked_tiles"] == base["tracked_tiles"]
    with_snapshot = {k for k in base["per_tile"] if k >= 0}
    assert with_snapshot <= set(hedged["per_tile"])  # nobody loses a snapshot to the hedge


def test_real_splice_the_hedge_gives_the_next_signer_a_snapshot(shared_data):
    """Two real signers spliced by a hard cut at the same place ('bird', then 'eat';
    ``facesel eval switches``): the switch cue ends the first track at the cut, and the default's
    short link joins the second signer's track to it, so one snapshot stands for both and one of
    them has none. The position hedge makes the same link but delivers each side: both signers
    get a snapshot. Since session 21 the default's shot-change cut veto refuses that link already
    (seen in a replay since the recording keeps the frames' thumbnails, shotcheck21)."""
    import glob

    import cv2
    from facesel.detect import make_detector
    from facesel.eval import switches as sw
    from facesel.eval.crowds_replay import record, replay
    from facesel.scoring import LaplacianVarianceScorer

    cv2.setNumThreads(1)
    detector = make_detector(max_side=1280)
    clips = {}
    for name in ("bird", "eat"):
        path = glob.glob(str(shared_data / "videos" / "more" / f"sample-videos__asl_gestures_{name}.mkv"))
        if not path:
            pytest.skip(f"signer clip '{name}' not in the shared data")
        frames = sw.read_frames(path[0], 40 + 2 * 5)
        clips[name] = sw.Clip(name, "signers", name, frames, [detector.detect(f) for f in frames])
    frames, _, owner = sw.splice(clips["bird"], clips["eat"], "cut", 40, 5, detector)
    scorer = LaplacianVarianceScorer()
    recording = record(frames, detector, scorer, 30.0)
    shown, fins = {}, {}
    # without the shot-change cut veto (on since session 21; the replay carries the thumbnails it
    # reads since shotcheck21): the short link across the cut, as before session 21
    for name, hedge, veto in (("no veto", None, False), ("hedge", HedgeRule(position=0.5), False),
                              ("default", None, "start")):
        fin = Finaliser.for_scorer(scorer, hedge=hedge, cut_veto=veto)
        shown[name] = {owner[int(r.best.frame_index)] for r in replay(recording, fin)}
        fins[name] = fin
    assert len(fins["no veto"].links) >= 1 and shown["no veto"] != {0, 1}  # the link leaves a signer without
    assert fins["hedge"].hedges and shown["hedge"] >= {0, 1}  # the hedge: each signer's own best crop
    assert shown["default"] >= {0, 1}  # the veto (the default now) refuses that link: both have their own
