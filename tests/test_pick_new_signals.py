"""The two new per-crop signals of session 14's within-track experiments (issue 22), on hand-made input.

``experiments/pick_landmark_shape.py`` (the crop's 5-landmark shape against its track's median) and
``experiments/pick_lbp_consensus.py`` (local-binary-pattern texture against the track's median)
were a measured negative result held out (docs/model_card.md, "Two more signals on top of the
consensus pick"); these tests pin what the signals compute, so that the figures can be rerun and
trusted: the shape ignores where the face is, how large and how rolled, and sees a widened mouth;
the texture signature ignores any strictly increasing change of brightness and sees a change of
texture.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "experiments"))
from pick_landmark_shape import shape_signals  # noqa: E402
from pick_lbp_consensus import LABELS, TABLE, lbp_signatures  # noqa: E402
from pick_loss_diagnosis import landmark_shapes  # noqa: E402

FACE = np.array([[30.0, 30.0], [50.0, 30.0], [40.0, 42.0], [32.0, 52.0], [48.0, 52.0]])


def similarity(points: np.ndarray, angle: float, scale: float, shift) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return points @ (scale * np.array([[c, s], [-s, c]])) + np.asarray(shift)


def test_landmark_shape_ignores_position_size_and_roll():
    moved = similarity(FACE, 0.4, 2.5, (300.0, -40.0))
    a, b = landmark_shapes(FACE[None]), landmark_shapes(moved[None])
    np.testing.assert_allclose(a, b, atol=1e-12)
    # eye midpoint at 0, eye distance 1: the nose of this face lies 0.6 eye distances below the eyes
    np.testing.assert_allclose(a[0, :2], [0.0, 0.6], atol=1e-12)


def test_landmark_shape_signal_sees_a_widened_mouth_and_nothing_else():
    rng = np.random.default_rng(0)
    track = np.stack([similarity(FACE + rng.normal(0, 0.2, (5, 2)), rng.normal(0, 0.05), rng.uniform(1, 3),
                                 rng.uniform(0, 500, 2)) for _ in range(12)])
    smile = FACE.copy()
    smile[3] += (-4.0, 1.0)
    smile[4] += (4.0, 1.0)
    track[5] = similarity(smile, 0.1, 2.0, (100.0, 100.0))
    ctx = np.linspace(1.0, 0.0, 12)  # every crop joins the 32 best: the reference is the whole track
    sig = shape_signals(track, ctx)
    assert np.argmin(sig["G"]) == 5 and np.argmin(sig["Gm"]) == 5
    assert sig["G"][5] < 2 * np.delete(sig["G"], 5).min()  # far beyond the landmark noise
    coincident = track.copy()
    coincident[2, 1] = coincident[2, 0]  # degenerate eyes: never preferred
    assert shape_signals(coincident, ctx)["G"][2] == -np.inf


def test_lbp_table_has_the_58_uniform_codes():
    assert LABELS == 59 and len(set(TABLE.tolist())) == 59
    assert TABLE[0] != TABLE[255] and TABLE[0b00001111] != LABELS - 1 and TABLE[0b01010101] == LABELS - 1


def test_lbp_signature_is_unit_length_and_ignores_a_monotone_brightness_change():
    rng = np.random.default_rng(1)
    crops = (rng.integers(0, 128, (4, 64, 64)) * 2).astype(np.uint8)  # even values: x // 2 + 40 keeps every order
    sig = lbp_signatures(crops)
    assert sig.shape == (4, 944) and sig.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(sig, axis=1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(lbp_signatures(crops // 2 + 40), sig)
    # a different texture (a smooth ramp: every pixel's neighbours ordered the same way) is far away
    ramp = np.tile(np.arange(64, dtype=np.uint8) * 3, (64, 1))[None]
    assert float(lbp_signatures(ramp)[0] @ sig[0]) < 0.5 < float(sig[1] @ sig[0])


def test_lbp_signature_rejects_a_wrong_shape():
    with pytest.raises(ValueError, match="greys"):
        lbp_signatures(np.zeros((2, 32, 32), np.uint8))
