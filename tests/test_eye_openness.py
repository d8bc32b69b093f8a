"""The eye-openness measure of session 15's within-track experiment (issue 22).

``experiments/eye_openness.py`` cuts a level strip around the two eye landmarks and measures the
vertical edges at each eye (``vedge``: the iris's sides; a closed eye's lash line is horizontal).
These tests pin that it sees an open eye against a closed one, whatever the face's size, roll and
brightness; that it is used relative to the track's median; that the pre-registered threshold gate
of ``experiments/pick_eye_openness.py`` keeps every finalist when none passes; and, on real frames
labelled by eye (docs/eval/tracks/eye_labels.csv), that a blink scores below open eyes.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "experiments"))
from eye_openness import MEASURES, eye_measures, eye_strip, relative_to_track  # noqa: E402
from pick_landmark_shape import candidate_scores, describe  # noqa: E402

VEDGE = MEASURES.index("vedge")


def face(open_eyes: bool, scale: float = 1.0, angle_deg: float = 0.0, gain: float = 1.0):
    """A (H, W, 3) uint8 drawing of two eyes on skin and its (2, 2) eye landmarks: open eyes are
    an almond of white with a dark iris, closed ones a curved lash line."""
    size = int(round(200 * scale))
    img = np.full((size, size, 3), 170, np.uint8)
    eyes = np.array([[70.0, 90.0], [130.0, 90.0]]) * scale
    for x, y in eyes:
        centre = (int(round(x)), int(round(y)))
        axes = (int(round(12 * scale)), int(round(6 * scale)))
        if open_eyes:
            cv2.ellipse(img, centre, axes, 0, 0, 360, (235, 235, 235), -1)
            cv2.circle(img, centre, int(round(5 * scale)), (40, 40, 40), -1)
        else:
            lid = (axes[0], max(1, axes[1] // 2))  # a shallow arc: the closed lid's lash line
            cv2.ellipse(img, centre, lid, 0, 0, 180, (40, 40, 40), max(1, int(round(2 * scale))))
    rot = cv2.getRotationMatrix2D((size / 2, size / 2), angle_deg, 1.0)
    img = cv2.warpAffine(img, rot, (size, size), borderMode=cv2.BORDER_REPLICATE)
    eyes = eyes @ rot[:, :2].T + rot[:, 2]
    return np.clip(img.astype(np.float64) * gain, 0, 255).astype(np.uint8), eyes


def vedge(img, eyes) -> float:
    return float(eye_measures(eye_strip(img, eyes))[VEDGE])


@pytest.mark.parametrize("scale, angle, gain", [(1.0, 0.0, 1.0), (3.0, 0.0, 1.0), (0.6, 0.0, 1.0),
                                                (1.0, 20.0, 1.0), (2.0, -15.0, 0.6)])
def test_open_eyes_have_far_more_vertical_edges_than_closed_ones(scale, angle, gain):
    opened, closed = vedge(*face(True, scale, angle, gain)), vedge(*face(False, scale, angle, gain))
    assert closed < 0.5 * opened


def test_vedge_hardly_depends_on_size_roll_or_brightness():
    base = vedge(*face(True))
    for scale, angle, gain in [(3.0, 0.0, 1.0), (1.0, 25.0, 1.0), (1.0, 0.0, 0.5), (2.0, -10.0, 0.7)]:
        assert abs(vedge(*face(True, scale, angle, gain)) / base - 1.0) < 0.3, (scale, angle, gain)


def test_the_strip_is_level_and_missing_eyes_give_nan():
    img, eyes = face(True, 1.5, 30.0)
    strip = eye_strip(img, eyes)
    assert strip.shape == (20, 80) and strip.dtype == np.float32
    # the two irises are the darkest spots of their halves, on the middle rows (the eye line is level)
    for half in (strip[:, :40], strip[:, 40:]):
        row = np.unravel_index(np.argmin(half), half.shape)[0]
        assert 6 <= row <= 13
    assert eye_strip(img, np.array([[np.nan, 1.0], [2.0, 3.0]])) is None
    assert eye_strip(img, np.array([[5.0, 5.0], [5.0, 5.0]])) is None
    assert np.isnan(eye_measures(None)).all()


def test_relative_to_track_divides_by_the_reference_median():
    v = np.array([2.0, 4.0, np.nan, 1.0, 8.0])
    ref = np.array([True, True, True, False, False])
    np.testing.assert_allclose(relative_to_track(v, ref), [2 / 3, 4 / 3, np.nan, 1 / 3, 8 / 3])
    assert np.isnan(relative_to_track(v, np.zeros(5, bool))).all()


def test_threshold_gate_keeps_every_finalist_when_none_passes():
    sig = {"A": np.array([0.1, 0.9, 0.5]), "O": np.array([1.0, 0.5, 0.95])}
    assert np.argmax(candidate_scores(("gate", "O", 0.75), sig)) == 2  # the open eyes, not the best A
    np.testing.assert_array_equal(candidate_scores(("gate", "O", 2.0), sig), sig["A"])
    assert describe(("gate", "O", 0.75)) == "gate O >= 0.75, then A"


def test_a_real_blink_scores_below_open_eyes():
    """video-retalking face_4: frames labelled closed (36-39) against frames labelled open."""
    data = os.environ.get("FACESEL_DATA")
    clip = Path(data or "/nonexistent") / "videos" / "more" / "video-retalking__examples_face_4.mp4"
    if not clip.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"shared data missing under CI: {clip}")
        pytest.skip(f"shared clip not found: {clip}")
    from facesel.detect.factory import make_detector
    from facesel.video import open_source

    closed, opened = {36, 37, 38, 39}, {63, 84, 106, 171}
    detector = make_detector("yunet", max_side=1280)
    value = {}
    for index, (frame, _stamp) in enumerate(open_source(clip)):
        if index in closed | opened:
            d = detector.detect(frame)
            k = int(np.argmax(d.scores))
            value[index] = vedge(frame, d.landmarks[k][:2])
        if index > max(closed | opened):
            break
    assert max(value[f] for f in closed) < 0.8 * min(value[f] for f in opened)
