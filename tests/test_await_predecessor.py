"""The order of release (``Finaliser(await_predecessor=True)``, off by default), on hand-made tracks
(docs/persons.md, "A bouncing child's reach": the bed's 12 -> 14).

One person: track P (frames 0-40) coasts after its last detection and its close is reported late
(frame 70); the next fragment Q (frames 42-45, at the same place) closes at once (frame 46: a
switch cue ended it). Q's grace period ends first (frame 71): nothing continues it, so by default
it is released, and when P is asked (frame 95) Q is gone: two snapshots of one person. With the
setting Q is held on until P has been asked, and P takes it. The setting is off in the
constructor and on in :meth:`Finaliser.for_scorer` (the pipeline's finaliser).
"""

from __future__ import annotations

import numpy as np
import pytest
from facesel.select.finalise import Finaliser
from facesel.select.linking import LinkRule
from facesel.select.tracklog import SelectedTrack
from evidence_helpers import stream_tracks
from facesel.types import Snapshot

FPS = 25.0
SIDE = 40.0
P, Q = range(0, 41), range(42, 46)
CLOSES = {1: 70, 2: 46}


def _box(x: float) -> np.ndarray:
    return np.array([x - SIDE / 2, 100 - SIDE / 2, x + SIDE / 2, 100 + SIDE / 2], np.float32)


def _result(track_id: int, frames, x: float) -> SelectedTrack:
    """A closed track's result: ``frames`` (K,) int64, boxes (K, 4) float32 at x = ``x``."""
    frames = np.asarray(list(frames), np.int64)
    boxes = np.stack([_box(x) for _ in frames])
    best = Snapshot(np.zeros((4, 4, 3), np.uint8), boxes[0], None, 0.9, int(frames[0]), frames[0] / FPS, track_id)
    return SelectedTrack(track_id, int(frames[0]), int(frames[-1]), frames[0] / FPS, frames[-1] / FPS, best,
                         np.full(len(frames), 0.9), frames, boxes=boxes, top=[best])


def _run(awaits: bool, q_x: float = 100.0):
    """Stream P and Q (Q's box centre at ``q_x``; P's at 100) through a finaliser; (delivered as
    {track id: frame of release}, links)."""
    spans, x_of = {1: P, 2: Q}, {1: 100.0, 2: q_x}
    fin = Finaliser(grace_seconds=1.0, link=LinkRule(), faceness=None, await_predecessor=awaits)
    out = stream_tracks(fin, spans, CLOSES, lambda t: _box(x_of[t]), lambda t: _result(t, spans[t], x_of[t]), 200, FPS)
    return {int(r.track_id): f for f, r in out}, fin.links


def test_by_default_the_later_fragment_is_released_before_its_predecessor_is_asked():
    released, links = _run(awaits=False)
    assert set(released) == {1, 2} and links == []
    assert released[2] - CLOSES[2] in (25, 26)  # Q at the end of its 1 s grace period (a frame's rounding) ...
    assert released[1] > released[2]  # ... then P, alone


def test_with_the_setting_the_later_fragment_waits_and_is_taken():
    released, links = _run(awaits=True)
    assert links == [(1, 2)]
    assert set(released) == {1}  # one result: P and Q
    assert released[1] - CLOSES[1] in (25, 26)  # released when P's grace period ends, as P alone would be


def test_a_fragment_elsewhere_does_not_wait():
    released, links = _run(awaits=True, q_x=100.0 + 3 * SIDE)  # 3 box sides away: the gates refuse
    assert released == _run(awaits=False, q_x=100.0 + 3 * SIDE)[0]  # released when it would be without the setting
    assert released[2] < released[1] and links == []


def test_the_setting_is_validated_off_in_the_constructor_and_on_in_the_pipelines_finaliser():
    from facesel.scoring import LaplacianVarianceScorer

    with pytest.raises(TypeError, match="await_predecessor"):
        Finaliser(await_predecessor="yes")
    assert Finaliser().await_predecessor is False
    scorer = LaplacianVarianceScorer()
    assert Finaliser.for_scorer(scorer, face_vote=lambda *a, **k: 0.0).await_predecessor is True
    assert Finaliser.for_scorer(scorer, face_vote=lambda *a, **k: 0.0, await_predecessor=False).await_predecessor is False
    assert Finaliser.for_scorer(scorer, link=None, face_vote=lambda *a, **k: 0.0).await_predecessor is False  # nothing to await
