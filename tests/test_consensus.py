"""The consensus pick (facesel.scoring.consensus, ``consensus_finalists``) on real held-out faces.

A "track" is made of one real lfw/eval face seen on many frames (small shifts, as a head that
sways) plus a few disturbed frames (strong blur, the lower half covered) that the scorer rates
highest. Off, the store keeps the best-scored (a disturbed) frame; on, it keeps one that agrees
with the track's average. The not-a-face vote's candidates are the same both ways.
"""

from __future__ import annotations

import types

import cv2
import numpy as np
import pytest
from facesel.config import PipelineConfig
from facesel.eval.evidence import held_out_faces
from facesel.scoring.consensus import TrackConsensus, edge_signatures
from facesel.select.store import SelectionStore


@pytest.fixture(scope="module")
def faces(shared_data):
    return held_out_faces(shared_data, n_lfw=3, n_orl=0)


def shifted(face: np.ndarray, dx: int, dy: int) -> np.ndarray:
    return cv2.warpAffine(face, np.float32([[1, 0, dx], [0, 1, dy]]), (64, 64), borderMode=cv2.BORDER_REPLICATE)


def disturbed(face: np.ndarray) -> list[np.ndarray]:
    covered = face.copy()
    covered[34:] = 40  # a hand or scarf over the lower half
    return [cv2.GaussianBlur(face, (0, 0), 4.0), covered]


def track(face):
    """(greys, qualities): 10 frames swaying by a pixel (the aligner's jitter) of the face, then 2 disturbed ones scored highest."""
    typical = [shifted(face, dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)] + [face]
    greys = typical + disturbed(face)
    qualities = [1.0 + 0.01 * k for k in range(len(typical))] + [5.0, 4.0]
    return np.stack(greys), qualities


def test_edge_signatures_are_unit_rows_and_reject_bad_shapes(faces):
    sig = edge_signatures(faces)
    assert sig.shape == (len(faces), 4096) and sig.dtype == np.float32
    assert np.allclose(np.linalg.norm(sig, axis=1), 1.0, atol=1e-4)
    assert not edge_signatures(np.full((1, 64, 64), 128, np.uint8)).any()  # no edges: a zero row
    with pytest.raises(ValueError, match="greys"):
        edge_signatures(np.zeros((2, 32, 32), np.uint8))


def test_disturbed_frames_agree_least_with_the_track_average(faces):
    for face in faces:
        greys, _ = track(face)
        consensus = TrackConsensus()
        consensus.add(greys)
        agreement = consensus.scores(greys)
        assert agreement[-2:].max() < agreement[:-2].min()
    assert not TrackConsensus().scores(faces).any()  # nothing added yet: no preference


def run_store(greys, qualities, consensus_finalists: int, rescore: bool, clip_window: int = 0):
    config = PipelineConfig(consensus_finalists=consensus_finalists, clip_window=clip_window)
    full = (lambda g, context: np.asarray([qualities[int(i)] for i in context.det_scores], np.float64)) if rescore \
        else None
    store = SelectionStore(config, full)
    store.frame_shape = (480, 640)
    box = np.array([100, 100, 164, 164], np.float32)
    for k, (grey, q) in enumerate(zip(greys, qualities)):
        crop = np.dstack([grey] * 3)
        # det_score carries the frame number so that the rescore (the "full score") can find its quality
        store.observe(7, True, k, k / 25.0, crop, box, None, q, grey, det_score=float(k))
    update = types.SimpleNamespace(closed=np.array([7]), dropped=np.array([], np.int64))
    (result,) = store.finish(update)
    return result


@pytest.mark.parametrize("rescore", [False, True], ids=["exhaustive", "sparse"])
def test_consensus_keeps_a_typical_frame_where_the_score_keeps_a_disturbed_one(faces, rescore):
    for face in faces:
        greys, qualities = track(face)
        off = run_store(greys, qualities, 0, rescore)
        on = run_store(greys, qualities, 16, rescore)
        assert off.best.frame_index == len(greys) - 2  # the blurred frame, scored 5.0
        assert on.best.frame_index < len(greys) - 2  # a typical frame of the track
        assert [c.frame_index for c in on.candidates] == [c.frame_index for c in off.candidates]


def test_a_crop_always_gets_the_same_signature_and_identical_crops_tie_exactly(faces):
    """The signature is a function of the crop alone (not of where the arrays happen to lie in
    memory, nor of the thread): near-tied agreements decide the kept frame, so a threaded run must
    give what ``feed`` gives (tests/test_selector_contract.py). cv2.magnitude on float32 gradients
    differed by an ulp between runs on the same crop."""
    face = faces[0]
    first = edge_signatures(face[None])
    for _ in range(30):
        assert np.array_equal(edge_signatures(face[None]), first)
    consensus = TrackConsensus()
    consensus.add(np.stack([shifted(face, 1, 0), face]))
    agreement = consensus.scores(np.stack([face, shifted(face, 0, 1), face, face]))
    assert agreement[0] == agreement[2] == agreement[3]
    with pytest.raises(ValueError, match="greys must be uint8"):
        edge_signatures(face[None].astype(np.float32))


def test_with_a_clip_the_kept_crop_is_inside_its_own_clip(faces):
    """The store holds only the clip around the best by score (frames 8-11 around the blurred
    frame 10), so the consensus pick chooses among the finalists inside it (a typical frame, 8 or
    9), not the track's most typical frame (the unshifted face, here moved before 8), and the clip is
    cut to the chosen frame's +-2."""
    greys, qualities = track(faces[0])
    greys = np.concatenate([greys[9:10], greys[:9], greys[10:]])  # frame 9, the unshifted face, first
    assert run_store(greys, qualities, 16, rescore=False).best.frame_index < 8  # no clip: outside it
    result = run_store(greys, qualities, 16, rescore=False, clip_window=2)
    best = result.best
    assert best.frame_index in (8, 9)
    assert best.frame_index in best.clip_frame_indices and len(best.clip) == len(best.clip_frame_indices)
    assert all(abs(f - best.frame_index) <= 2 for f in best.clip_frame_indices)
    assert result.top[0] is best
