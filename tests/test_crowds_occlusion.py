"""Occluded crowds (issue 23): the re-link's colour sample, recent and where the face was seen.

Real clips from the shared data, tiled and occluded in memory (never written). The occluded crowd
of the three video-retalking heads is recorded once and replayed through finalisers with the
colour sample before (``colour_sample="ends"``) and the default (``"either"``): the replay must
deliver what a live run delivers, the default must join fragments of one person that the sample
before kept apart, and neither may join two tile persons; the next person at the same place must
still not be joined. Hand-made evidence checks which observations the sample takes.
"""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest
from evidence_helpers import make_evidence
from facesel.detect import make_detector
from facesel.eval import crowds
from facesel.eval.crowds_replay import (
    crowd_figures,
    record,
    replay,
    spans,
)
from facesel.select.evidence import TrackEvidence
from facesel.select.faceness import FacenessRule
from facesel.select.finalise import DOSE_FACE_FLOOR, Finaliser
from facesel.select.link_colours import seen_colours
from facesel.select.link_explain import explain
from facesel.select.linking import LinkRule
from facesel.selector import Selector, default_scorer

TILE, COLUMNS = 240, 3


@pytest.fixture(scope="module")
def detector():
    return make_detector(max_side=1280)


@pytest.fixture(scope="module")
def scorer():
    return default_scorer()


def _finaliser(scorer, link):
    faceness = FacenessRule(min_quality=DOSE_FACE_FLOOR, suppress_static=False)  # webcam people sit still
    return Finaliser.for_scorer(scorer, 0.25, faceness=faceness, link=link)


@pytest.fixture(scope="module")
def retalking_crowd(shared_data, detector, scorer):
    clips = crowds.families(shared_data)["retalking"]
    assert len(clips) == 3
    tiles = [crowds.read_tile(p, 150, skip=10) for p in clips]
    frames = crowds.compose(tiles, COLUMNS, TILE, True, 40)
    tile_of, inside = crowds.tile_locator((TILE * 3 // 4, TILE), COLUMNS)
    return frames, record(frames, detector, scorer, 25.0, inside, keep_static=True), tile_of


def test_a_replay_delivers_what_the_live_run_delivered(retalking_crowd, detector, scorer):
    frames, recording, _ = retalking_crowd
    live = _finaliser(scorer, LinkRule())
    selector = Selector(detector, scorer, threads=1, fps=25.0, keep_static=True, post_close=[live])
    delivered = []
    for frame in frames:
        delivered += selector.feed(frame).closed
    delivered += selector.flush()
    replayed_finaliser = _finaliser(scorer, LinkRule())
    replayed = replay(recording, replayed_finaliser)
    assert len(delivered) >= 3
    assert [(int(r.track_id), r.frame_indices.tolist()) for r in replayed] == \
        [(int(r.track_id), r.frame_indices.tolist()) for r in delivered]
    assert replayed_finaliser.links == live.links


def test_the_default_colour_sample_rejoins_one_persons_occluded_fragments(retalking_crowd, scorer):
    _, recording, tile_of = retalking_crowd
    figures = {}
    for sample in ("ends", "either"):
        finaliser = _finaliser(scorer, LinkRule(colour_sample=sample))
        figures[sample] = crowd_figures(recording, replay(recording, finaliser), finaliser.links, tile_of)
    assert figures["ends"]["tracked_tiles"] == {0, 1, 2}
    assert figures["ends"]["snapshots"] > 3, "the occluders must leave fragments the sample before kept apart"
    assert figures["either"]["snapshots"] < figures["ends"]["snapshots"]
    assert figures["either"]["links"] > figures["ends"]["links"]
    assert figures["ends"]["wrong_joins"] == figures["either"]["wrong_joins"] == 0


def test_the_next_person_at_the_same_place_is_not_joined(shared_data, detector, scorer):
    """Each video-retalking head followed at the same place by the next one, whose face the detector
    misses for 15 frames (longer than the tracker waits): two snapshots, never one spanning both."""
    clips = crowds.families(shared_data)["retalking"]
    for a, b in itertools.pairwise(clips):
        fa, fb = crowds.read_tile(a, 45, skip=10), crowds.read_tile(b, 60, skip=10)
        frames = crowds.replacement([cv2.resize(f, (640, 480)) for f in fa], [cv2.resize(f, (640, 480)) for f in fb],
                                    detector)
        recording = record(frames, detector, scorer, 25.0, None, keep_static=True)
        delivered = replay(recording, _finaliser(scorer, LinkRule()))
        assert len(delivered) >= 2, f"{a.name} -> {b.name}: both people must get a snapshot"
        assert spans(delivered, 45) == 0, f"{a.name} -> {b.name} joined into one snapshot"


def _colours(k: int) -> np.ndarray:
    """(2, 64) float32: both regions all in colour bin ``k``."""
    h = np.zeros((2, 64), np.float32)
    h[:, k] = 1.0
    return h


def _fragment(t0: float, scores, colours, box=(100, 100, 160, 160), measured=None) -> TrackEvidence:
    """Evidence of a still box seen at 25 frames/s from ``t0``; ``colours[k]`` (or None) measured on
    observation k when ``measured`` (default all) says so."""
    e = TrackEvidence()
    for k, (score, colour) in enumerate(zip(scores, colours)):
        t = t0 + k / 25
        e.add(box, score, None, t, round(t * 25), False)
        if colour is not None and (measured is None or measured[k]):
            e.colour_last(colour)
    return e


def test_the_sample_is_the_better_seen_half_of_the_end():
    # The last 6 observations of a fragment: the face partly covered on the last 3 (the detector
    # less sure, the colours the occluder's, bin 9), whole before (bin 1).
    scores = [0.92, 0.93, 0.91, 0.70, 0.66, 0.62]
    colours = [_colours(1)] * 3 + [_colours(9)] * 3
    tail = seen_colours(_fragment(0.0, scores, colours), "tail")
    assert tail[0, 1] == 1.0 and tail[0, 9] == 0.0
    # Without the confidence the occluder's colours would be half of the end: the median of the
    # last 6 (what colour_sample="ends" compares) is no longer bin 1 alone.
    assert seen_colours(_fragment(0.0, [0.9] * 6, colours), "tail")[0, 9] > 0


def test_colours_measured_long_before_the_end_are_not_compared():
    # The earlier fragment's colours were measured on its first 5 observations only (then its band
    # overlapped another face for 30 observations); the later one shows other colours right away.
    earlier = _fragment(0.0, [0.9] * 35, [_colours(1)] * 35, measured=[k < 5 for k in range(35)])
    later = _fragment(35 / 25 + 0.3, [0.9] * 10, [_colours(40)] * 10)
    assert seen_colours(earlier, "tail", reach=16) is None
    assert seen_colours(earlier, "tail") is not None  # any age: the old colours
    assert LinkRule(colour_sample="ends").cost(earlier, later) is None  # refused on the old colours
    assert "colour" in explain(LinkRule(colour_sample="ends"), earlier, later)["refused"]
    assert LinkRule().cost(earlier, later) is not None  # position, time and size decide
    # With recent colours at both ends, the colours are compared as before.
    recent = _fragment(0.0, [0.9] * 35, [_colours(1)] * 35)
    assert LinkRule().cost(recent, later) is None
    assert explain(LinkRule(), recent, later)["refused"] == ["colour"]


def test_explain_names_the_position_gate():
    earlier = make_evidence([(100, 100, 160, 160)] * 8, [k / 25 for k in range(8)])
    later = make_evidence([(400, 100, 460, 160)] * 8, [0.6 + k / 25 for k in range(8)])
    out = explain(LinkRule(), earlier, later)
    assert out["refused"] == ["position"] and out["position"] > out["allowance"]
    assert LinkRule().cost(earlier, later) is None
