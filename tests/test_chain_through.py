"""A short fragment that a link skips (issue 23, occluded crowds: "7 was continued by 13, skipping 12").

One real talking head from the shared data (video-retalking, full resolution) is detected and
tracked once by the default Selector (recorded in memory, :mod:`facesel.eval.crowds_replay`); its
one track's real boxes, detector confidences and colours are then fed to a finaliser as three
fragments, as an occluded crowd breaks a person up: A (frames 0-29) ended by a switch cue (a
passer-by covering the face), a short S (33-36) while the occluder still overlaps the band below
the face (no colours measured), and B (40-79). A is re-joined by B on colours; S, without colours,
cannot re-join A (a fragment a cue ended is taken up only on colours) and B is taken by then: S
is left alone, a second snapshot of one person. ``LinkRule(chain_through="later")`` absorbs it;
so does ``"place"`` (B's position and size gates only); the rule before (None) and ``"both"``
(S must also pass as A's successor) do not; and a short fragment elsewhere in the frame (a face 3
box sides away), or one seen while B is, is never absorbed. And end to end on the sam2 juggler, the
default (``"place"``) gives his one snapshot where the rule before gave two.
"""

from __future__ import annotations

import numpy as np
import pytest
from facesel.detect import make_detector
from facesel.eval import crowds
from facesel.eval.crowds_replay import record
from facesel.scoring import LaplacianVarianceScorer
from facesel.select.finalise import Finaliser
from facesel.select.linking import LinkRule
from facesel.select.tracklog import SelectedTrack
from facesel.types import Detections, Snapshot

FPS = 25.0
A, S, B = range(30), range(33, 37), range(40, 80)


@pytest.fixture(scope="module")
def one_head(shared_data):
    """Per frame 0-79, (box (4,), detector confidence, colours (2, 64) or None) of the clip's one track."""
    clip = crowds.families(shared_data)["retalking"][0]
    frames = crowds.read_tile(clip, 80, skip=10)
    recording = record(frames, make_detector(max_side=1280), LaplacianVarianceScorer(), FPS, keep_static=True)
    seen: dict[int, dict] = {}
    for packet, _, _ in recording.steps:
        if packet is None:
            continue
        for i, track_id in enumerate(np.asarray(packet.update.track_ids).tolist()):
            colours = packet.appearances[i] if i < len(packet.appearances) else None
            seen.setdefault(track_id, {})[int(packet.index)] = (
                np.asarray(packet.detections.boxes[i], np.float32), float(packet.detections.scores[i]), colours)
    track = max(seen.values(), key=len)
    assert all(f in track for f in range(80)), "the head must be tracked on every frame"
    assert sum(track[f][2] is not None for f in range(80)) >= 60, "a large face has colours"
    return track


def _result(track_id, frames, observations):
    frames = np.asarray(list(frames), np.int64)
    boxes = np.stack([observations[f][0] for f in frames])
    qualities = np.array([observations[f][1] for f in frames], np.float64)
    k = int(np.argmax(qualities))
    best = Snapshot(np.zeros((4, 4, 3), np.uint8), boxes[k], None, float(qualities[k]), int(frames[k]),
                    frames[k] / FPS, track_id)
    return SelectedTrack(track_id, int(frames[0]), int(frames[-1]), frames[0] / FPS, frames[-1] / FPS, best,
                         qualities, frames, boxes=boxes, top=[best])


def _run(one_head, chain_through, shift_s=0.0, s_span=S):
    """Stream the three fragments through a finaliser; its delivered results and links.
    ``shift_s``: S's boxes moved right by this many box sides (someone else, elsewhere);
    ``s_span``: S's frames."""
    fin = Finaliser(grace_seconds=1.0, link=LinkRule(chain_through=chain_through), faceness=None)
    fragments = {1: A, 2: s_span, 3: B}
    out = []
    for f in range(90):
        for track_id, span in fragments.items():
            if f in span:
                box, score, colours = one_head[f]
                if track_id == 2:
                    box = box + np.float32(shift_s * (box[2] - box[0])) * np.array([1, 0, 1, 0], np.float32)
                    colours = None  # the occluder overlaps the band below the face: no colours
                fin.evidence.observe_frame([track_id], Detections(box[None], [score]), f / FPS, f, [colours])
        if f == A[-1]:
            fin.evidence.get(1).ended_by = "appearance"  # the passer-by's colours fired the cue
        closing = {t: span for t, span in fragments.items() if f == span[-1] + 3}  # closed 3 frames after
        for track_id, span in closing.items():
            fin.add(_result(track_id, span, one_head), f / FPS)
        out += fin.poll(f / FPS)
    return out + fin.flush(), fin.links


def test_the_rule_before_leaves_the_skipped_fragment_alone(one_head):
    out, links = _run(one_head, None)
    assert sorted(int(r.track_id) for r in out) == [1, 2]  # A+B, and S alone: two snapshots of one person
    assert links == [(1, 3)]


@pytest.mark.parametrize("chain_through", ["later", "place"])
def test_chain_through_absorbs_the_skipped_fragment(one_head, chain_through):
    out, links = _run(one_head, chain_through)
    assert len(out) == 1
    merged = out[0]
    assert int(merged.track_id) == 1
    assert merged.frame_indices.tolist() == list(A) + list(S) + list(B)
    assert (1, 2) in links and (1, 3) in links


def test_chain_through_both_asks_the_earlier_fragment_too(one_head):
    out, _ = _run(one_head, "both")
    assert sorted(int(r.track_id) for r in out) == [1, 2]  # S cannot re-join A (no colours after a cue)


@pytest.mark.parametrize("chain_through", [None, "later", "both", "place"])
def test_a_fragment_elsewhere_is_never_absorbed(one_head, chain_through):
    out, links = _run(one_head, chain_through, shift_s=3.0)
    assert sorted(int(r.track_id) for r in out) == [1, 2]
    assert links == [(1, 3)]


@pytest.mark.parametrize("chain_through", ["later", "place"])
def test_a_fragment_seen_while_the_later_one_is_seen_is_not_between(one_head, chain_through):
    # S 2 box sides off, on frames 38-41 while B starts at 40: two faces at once, not one person
    out, links = _run(one_head, chain_through, shift_s=2.0, s_span=range(38, 42))
    assert sorted(int(r.track_id) for r in out) == [1, 2]
    assert (1, 2) not in links


def test_chain_through_is_validated():
    with pytest.raises(ValueError, match="chain_through"):
        LinkRule(chain_through="always")


def test_the_default_absorbs_the_juggler_s_skipped_fragment(shared_data):
    """The sam2 juggler (one person by the manifest): a ball in front of his collar ends his track
    by a colour cue; the fragment after it (ball colours, frames 113-118) cannot re-join, the one
    after that can. Recorded once, replayed with the default and with ``chain_through=None``."""
    from facesel.config import PipelineConfig
    from facesel.eval.crowds_replay import replay
    from facesel.selector import default_detector, default_scorer
    from facesel.video import open_source

    assert LinkRule().chain_through == "place"
    path = shared_data / "videos" / "more" / "sam2__demo_data_gallery_05_default_juggle.mp4"
    if not path.exists():
        pytest.skip(f"{path.name} is not in the shared data")
    frames = [frame for frame, _ in open_source(path)]
    scorer = default_scorer()
    recording = record(frames, default_detector(), scorer, 24.0, min_face_size=16.0)
    delivered = {}
    for chain_through in (None, "place"):
        fin = Finaliser.for_config(PipelineConfig(min_face_size=16.0), scorer)
        fin.link = LinkRule(chain_through=chain_through)
        delivered[chain_through] = (replay(recording, fin), fin.links)
    before, after = delivered[None], delivered["place"]
    assert len(before[0]) == 2 and len(after[0]) == 1
    skipped = {int(r.track_id) for r in before[0]} - {int(r.track_id) for r in after[0]}
    assert len(skipped) == 1 and (int(after[0][0].track_id), skipped.pop()) in after[1]
    # the absorbed fragment lies wholly between two fragments of the chain, in time
    assert set(after[0][0].frame_indices.tolist()) == {f for r in before[0] for f in r.frame_indices.tolist()}
