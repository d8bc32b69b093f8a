"""Session 12's cheaper consensus pick (``consensus_impl = "batched"``) against session 11's code
(``"reference"``): the same crops, signatures and picks, bit for bit.

What changed: a frame's landmark fits are one array operation (facesel.align.similarities_from_landmarks,
align_faces), and the orientation histograms are computed in place, with a third of the temporary
arrays (facesel.scoring.consensus.hog_signatures). Each is checked here
against the code it replaces on real faces and real video; the Selector's picks are compared on
the arcade and selfie videos. How much cheaper: benchmarks/consensus_cost.py (docs/performance.md,
session 12); no timing here.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from facesel import Selector
from facesel.align import align_face, align_faces, similarities_from_landmarks, similarity_from_landmarks
from facesel.detect import make_detector
from facesel.eval.evidence import held_out_faces
from facesel.scoring.consensus import hog_signatures, hog_signatures_reference
from facesel.selector import default_scorer
from facesel.video import open_source


def bits(a: np.ndarray) -> bytes:
    return np.ascontiguousarray(a).tobytes()


@pytest.fixture(scope="module")
def faces(shared_data):
    return held_out_faces(shared_data, n_lfw=6, n_orl=0)


def test_hog_signatures_equal_the_reference_on_real_faces_whatever_the_batch(faces):
    greys = list(faces)
    shadowed = [np.clip(g.astype(np.int16) - np.linspace(0, 120, 64)[None, :].astype(np.int16), 0, 255).astype(np.uint8)
                for g in greys]
    blurred = [cv2.GaussianBlur(g, (0, 0), 2.0) for g in greys]
    hard = np.zeros((64, 64), np.uint8)
    hard[:, ::2] = 255  # the largest gradients a crop can have (|gx| = 1020)
    crops = np.stack(greys + shadowed + blurred + [hard, hard.T.copy(), np.full((64, 64), 77, np.uint8)])
    whole = hog_signatures(crops)
    assert bits(whole) == bits(hog_signatures_reference(crops))
    for size in (1, 2, 5, 7):
        for start in range(0, len(crops), size):
            assert bits(hog_signatures(crops[start:start + size])) == bits(whole[start:start + size])
    assert not whole[-1].any()  # a constant crop: a zero row, as the reference
    with pytest.raises(ValueError, match="greys"):
        hog_signatures(np.zeros((2, 32, 32), np.uint8))


@pytest.fixture(scope="module")
def detected(shared_data):
    """(frame, Detections) of real video frames with faces: arcade (many small faces) and the selfie."""
    detector = make_detector("yunet", max_side=960)
    out = []
    for name, step in (("arcade_walkers_1080p.mp4", 6), ("selfie_motion_blur_portrait.mp4", 10)):
        for frame, _ in open_source(shared_data / "videos" / name, every=step, max_frames=10):
            dets = detector.detect(frame)
            if len(dets.boxes):
                out.append((frame, dets))
    return out


def test_batched_landmark_fits_equal_each_face_alone(detected):
    marks = np.concatenate([d.landmarks.reshape(-1, 5, 2) for _, d in detected]).astype(np.float64)
    rng = np.random.default_rng(12)
    mirrored = marks[:, ::-1] + rng.normal(0, 0.5, marks.shape)  # fits that would mirror the face
    swollen = marks * rng.uniform(0.2, 8.0, (len(marks), 1, 1))
    marks = np.concatenate([marks, mirrored, swollen])
    assert len(marks) >= 100
    for size in (1, 3, 20, len(marks)):
        for start in range(0, len(marks), size):
            fits, fitted = similarities_from_landmarks(marks[start:start + size])
            assert fitted.all()
            for k, m in enumerate(marks[start:start + size]):
                assert bits(fits[k]) == bits(similarity_from_landmarks(m))
    degenerate = np.repeat(marks[:1, :1], 5, axis=1)
    _, fitted = similarities_from_landmarks(np.concatenate([marks[:2], degenerate]))
    assert fitted.tolist() == [True, True, False]
    with pytest.raises(ValueError, match="landmarks"):
        similarities_from_landmarks(np.full((1, 5, 2), np.nan))


def spoilt(marks: np.ndarray, how: str) -> np.ndarray:
    """Landmarks as detected (``as is``) or with the first face's not finite and the second's all
    on one point (``spoilt``), or the first face's alone on one point (``degenerate``)."""
    marks = marks.reshape(-1, 5, 2).astype(np.float64).copy()
    if how == "spoilt":
        marks[0, 2, 0] = np.nan  # not finite: the box alone, as the stage did
        if len(marks) > 1:
            marks[1] = marks[1, :1]  # all on one point: the box alone
    elif how == "degenerate":
        marks[0] = marks[0, :1]
    return marks


@pytest.mark.parametrize("how", ["as is", "spoilt", "degenerate"])
def test_align_faces_equals_align_face_face_by_face_with_the_stages_fallbacks(detected, how):
    """Frames of one face (the selfie: the face's own fit) and of many (arcade: one batch)."""
    assert {len(d.boxes) == 1 for _, d in detected} == {True, False}
    for frame, dets in detected:
        marks = spoilt(dets.landmarks, how)
        greys, colours = align_faces(frame, dets.boxes, marks)
        assert greys.shape == (len(dets.boxes), 64, 64) and greys.dtype == np.uint8
        for k, box in enumerate(dets.boxes):
            try:
                ref = align_face(frame, box, None if not np.isfinite(marks[k]).all() else marks[k])
            except ValueError:
                ref = align_face(frame, box, None)
            assert bits(ref.grey) == bits(greys[k])
            assert bits(ref.colour) == bits(colours[k]) and colours[k].shape == ref.colour.shape


def kept(shared_data, video: str, impl: str, **settings):
    """What the Selector keeps with ``consensus_impl = impl``: per track its id, kept frame, top
    frames and qualities, and the bytes of the kept crop; and the work counters."""
    selector = Selector(make_detector("yunet", max_side=960), default_scorer(), consensus_impl=impl, **settings)
    results = []
    for frame, stamp in open_source(shared_data / "videos" / video, **({"max_frames": 60} if "arcade" in video else {"every": 2})):
        results += selector.feed(frame, stamp).closed
    results += selector.flush()
    return sorted((int(r.track_id), int(r.best.frame_index), [int(t.frame_index) for t in r.top],
                   [float(t.quality) for t in r.top], bits(r.best.crop)) for r in results), dict(selector.work)


@pytest.mark.slow
@pytest.mark.parametrize("video, settings", [
    ("arcade_walkers_1080p.mp4", {}),
    ("arcade_walkers_1080p.mp4", {"mode": "exhaustive"}),
    ("selfie_motion_blur_portrait.mp4", {}),
    ("selfie_motion_blur_portrait.mp4", {"consensus_signature": "edges", "consensus_reference": "mean"}),
])
def test_the_selector_keeps_the_same_frames_batched_and_by_the_reference_code(shared_data, video, settings):
    batched, work = kept(shared_data, video, "batched", **settings)
    reference, work_ref = kept(shared_data, video, "reference", **settings)
    assert len(batched) >= 1 and work["aligned"] > 0
    assert batched == reference
    assert work == work_ref  # the same crops aligned and scored
