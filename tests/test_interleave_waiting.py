"""The chain-level interleave merge (``Finaliser(interleave_waiting=True)``, off by default), on
hand-made tracks (docs/persons.md, "Two tracks on one person at once").

One person, as the girl on the bed: track A (frames 0-29) is continued by B (32-48), and while B
runs the tracker opens a second track C on the same face (33-47): the detector's one box goes to B
on even frames and to C on odd ones, never both. C is continued by D (52-199), at its place. C closes first and
is asked while D is open, so the chain [C] waits for D; B coasts and closes later, so when [A, B]
is asked, C is neither held nor open: the held-only merge cannot see it and the person keeps two
snapshots. The setting folds [A, B] into the waiting chain [C -> D].
"""

from __future__ import annotations

import numpy as np
import pytest
from facesel.select.finalise import Finaliser
from facesel.select.interleave import InterleaveRule
from facesel.select.linking import LinkRule
from facesel.select.tracklog import SelectedTrack
from facesel.types import Detections, Snapshot

FPS = 25.0
SIDE = 40.0
A, B, C = range(0, 30), range(32, 49, 2), range(33, 48, 2)


def _box(x: float) -> np.ndarray:
    return np.array([x - SIDE / 2, 100 - SIDE / 2, x + SIDE / 2, 100 + SIDE / 2], np.float32)


def _result(track_id: int, frames, x_of) -> SelectedTrack:
    """A closed track's result: ``frames`` (K,) int64, boxes (K, 4) float32 at x = ``x_of(track_id)``."""
    frames = np.asarray(list(frames), np.int64)
    boxes = np.stack([_box(x_of(track_id)) for _ in frames])
    qualities = np.full(len(frames), 0.9)
    best = Snapshot(np.zeros((4, 4, 3), np.uint8), boxes[0], None, 0.9, int(frames[0]), frames[0] / FPS, track_id)
    return SelectedTrack(track_id, int(frames[0]), int(frames[-1]), frames[0] / FPS, frames[-1] / FPS, best,
                         qualities, frames, boxes=boxes, top=[best])


def _run(waiting: bool, c_x: float = 110.0, c_frames=C, d_first: int = 52, b_closes: int = 78):
    """Stream the four tracks through a finaliser; (delivered results, links).
    ``c_x``: C's and D's box centre (A, B at x = 100); ``c_frames``: C's frames; ``d_first``: D's first
    frame; ``b_closes``: the frame on which B's close is reported (it coasts after frame 48)."""
    spans = {1: A, 2: B, 3: c_frames, 4: range(d_first, 200)}
    x_of = {1: 100.0, 2: 100.0, 3: c_x, 4: c_x}.get
    closes = {1: A[-1] + 1, 2: b_closes, 3: c_frames[-1] + 1, 4: 200}
    fin = Finaliser(grace_seconds=1.0, link=LinkRule(), faceness=None, interleave=InterleaveRule(),
                    interleave_waiting=waiting)
    out = []
    for f in range(205):
        ids = [t for t, span in spans.items() if f in span]
        if ids:
            boxes = np.stack([_box(x_of(t)) for t in ids])
            fin.evidence.observe_frame(ids, Detections(boxes, np.full(len(ids), 0.9, np.float32)), f / FPS, f,
                                       [None] * len(ids))
        for t in [t for t, c in closes.items() if c == f]:
            fin.add(_result(t, spans[t], x_of), f / FPS)
        out += fin.poll(f / FPS)
    return out + fin.flush(), fin.links


def test_the_held_only_merge_leaves_the_person_in_two_chains():
    out, links = _run(waiting=False)
    assert sorted(int(r.track_id) for r in out) == [1, 3]  # [A, B] and [C, D]: two snapshots of one person
    assert (1, 2) in links and (3, 4) in links


def test_a_held_chain_is_folded_into_the_interleaved_chain_waiting_for_its_successor():
    out, links = _run(waiting=True)
    assert len(out) == 1
    person = out[0]
    assert int(person.track_id) == 1  # the earlier-starting id
    frames = person.frame_indices.tolist()
    assert frames == sorted(set(frames))  # every frame seen once
    assert frames == sorted([*A, *B, *C, *range(52, 200)])
    assert (1, 3) in links


def test_a_face_elsewhere_is_not_folded():
    out, links = _run(waiting=True, c_x=100.0 + 1.5 * SIDE)  # hand-overs 1.5 box sides apart: two faces
    assert (3, 4) in links  # C waits for D, and is not joined
    assert sorted(int(r.track_id) for r in out) == [1, 3]


def test_a_track_seen_on_the_same_frame_is_not_folded():
    out, links = _run(waiting=True, c_frames=range(32, 48))  # C seen with B on every even frame: two faces
    assert (3, 4) in links
    assert len(out) == 2


def test_a_held_result_alive_with_the_open_successor_is_not_folded():
    # D starts on B's last frame (48): a shared frame with D could not be ruled out
    out, links = _run(waiting=True, d_first=48)
    assert (3, 4) in links  # C still waits for D: the guard, not the link, keeps the chains apart
    assert len(out) == 2


def test_the_setting_is_validated_and_off_by_default():
    with pytest.raises(TypeError, match="interleave_waiting"):
        Finaliser(interleave_waiting="yes")
    assert Finaliser().interleave_waiting is False
