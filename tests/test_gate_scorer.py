"""GateScorer: "never pick a frame the detector doubts when a confident, upright one exists"."""

import numpy as np
import pytest

from facesel.align import TEMPLATE
from facesel.scoring.gate import GateParams, GateScorer, gate_scores
from facesel.types import CropContext


def _landmarks(roll_deg=0.0, yaw_shift=0.0, n=1):
    """Template landmarks (a frontal face) rotated by ``roll_deg``, nose moved sideways by ``yaw_shift`` px."""
    pts = TEMPLATE.astype(np.float64).copy()
    pts[2, 0] += yaw_shift
    c = pts.mean(axis=0)
    a = np.radians(roll_deg)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return np.repeat(((pts - c) @ rot.T + c)[None], n, axis=0).astype(np.float32)


def _context(det, sides, landmarks):
    n = len(det)
    boxes = np.array([[0, 0, s, s] for s in sides], np.float32)
    return CropContext(np.asarray(det, np.float32), boxes, np.concatenate(landmarks), (480, 640), np.zeros(n, np.int64))


def test_a_confident_upright_crop_beats_a_larger_doubtful_or_tilted_one():
    params = GateParams(det_min=0.8, roll_max=np.radians(15), secondary="size")
    ctx = _context([0.95, 0.5, 0.99], [40, 200, 300], [_landmarks(), _landmarks(), _landmarks(roll_deg=40)])
    scorer = GateScorer(params)
    s = scorer.score(np.zeros((3, 64, 64), np.uint8), ctx)
    assert int(np.argmax(s)) == 0  # the small confident upright face, not the doubtful or the rolled big one
    # among the crops that fail, the secondary still orders them (size)
    assert s[2] > s[1]
    assert np.array_equal(scorer.screen_context(ctx), s)


def test_without_any_confident_upright_crop_the_secondary_signal_decides():
    params = GateParams(det_min=0.99, secondary="det")
    det = np.array([0.5, 0.9, 0.7])
    s = gate_scores(params, det, np.full(3, 50.0), np.zeros((3, 3)))
    assert int(np.argmax(s)) == 1
    assert np.argsort(s).tolist() == np.argsort(det).tolist()


def test_degenerate_landmarks_fail_every_pose_gate_but_not_an_open_one():
    pose = np.array([[np.nan] * 3, [0.0, 0.0, 0.0]])
    det = np.array([0.99, 0.8])
    assert int(np.argmax(gate_scores(GateParams(yaw_max=0.2), det, np.full(2, 50.0), pose))) == 1
    assert int(np.argmax(gate_scores(GateParams(), det, np.full(2, 50.0), pose))) == 0


def test_gate_params_are_validated():
    with pytest.raises(ValueError, match="det_min"):
        GateParams(det_min=-1.0)
    with pytest.raises(ValueError, match="secondary"):
        GateParams(secondary="magic")
    with pytest.raises(ValueError, match="pitch_max"):
        GateParams(pitch_max=float("nan"))
    assert "det >= 0.8" in GateParams(det_min=0.8).describe()


def test_the_sharpness_secondary_reads_pixels_and_has_no_context_screen():
    scorer = GateScorer(GateParams(secondary="sharpness"))
    assert not hasattr(scorer, "screen_context")
    rng = np.random.default_rng(0)
    crops = np.stack([np.full((64, 64), 128, np.uint8), rng.integers(0, 255, (64, 64), dtype=np.uint8)])
    ctx = _context([0.9, 0.9], [50, 50], [_landmarks(), _landmarks()])
    assert int(np.argmax(scorer.score(crops, ctx))) == 1  # the textured crop is the sharper one


def test_without_context_the_scorer_falls_back_to_the_vae_dose_rule():
    from facesel.scoring import VAEScorer

    rng = np.random.default_rng(1)
    crops = rng.integers(0, 255, (2, 64, 64), dtype=np.uint8)
    assert GateScorer().score(crops) == pytest.approx(VAEScorer(method="dose").score(crops))


def test_the_dose_secondary_orders_crops_within_a_level_by_the_vae_at_one_pass():
    from facesel.scoring import VAEScorer

    scorer = GateScorer(GateParams(det_min=0.8, secondary="dose"))
    assert not hasattr(scorer, "screen_context")
    rng = np.random.default_rng(2)
    crops = rng.integers(0, 255, (3, 64, 64), dtype=np.uint8)
    ctx = _context([0.9, 0.9, 0.3], [50, 50, 50], [_landmarks(n=1)] * 3)
    s = scorer.score(crops, ctx)
    dose = VAEScorer(method="dose", samples=1, use_mean=True).score(crops)
    assert np.argsort(s[:2]).tolist() == np.argsort(dose[:2]).tolist()
    assert s[2] < s[:2].min()  # the doubtful crop stays below both confident ones


def test_the_pitch_gate_is_centred_where_asked():
    pose = np.array([[0.0, 0.0, -0.06], [0.0, 0.0, 0.08]])  # chin up a little; upright as YuNet sees it
    det, size = np.array([0.9, 0.9]), np.full(2, 50.0)
    at_zero = gate_scores(GateParams(pitch_max=0.07, secondary="det"), det, size, pose)
    assert at_zero[0] > at_zero[1]  # centred on the template's 0, the chin-up frame passes and the upright one fails
    centred = gate_scores(GateParams(pitch_max=0.07, secondary="det", pitch_centre=0.03), det, size, pose)
    assert centred[1] > centred[0]
    with pytest.raises(ValueError, match="pitch_centre"):
        GateParams(pitch_centre=float("inf"))


def test_the_context_rule_scores_like_the_default_screen_and_runs_no_vae_with_a_context(monkeypatch):
    from facesel.scoring import default_scorer
    from facesel.scoring.vae import VAEScorer

    ctx = _context([0.95, 0.6, 0.9], [40, 200, 80], [_landmarks(), _landmarks(roll_deg=25), _landmarks(yaw_shift=6)])
    crops = np.random.default_rng(4).integers(0, 255, (3, 64, 64), dtype=np.uint8)
    expected = default_scorer().screen(crops, context=ctx)  # the default's context part, same weights
    scorer = default_scorer("context")

    def no_vae(*args, **kwargs):
        raise AssertionError("the VAE ran")

    monkeypatch.setattr(VAEScorer, "run_batches", no_vae)
    assert scorer.score(crops, ctx) == pytest.approx(expected)
    monkeypatch.undo()
    # a photo: the stills default (the model card's default_method, dose_flat since issue 22 item 4)
    assert scorer.score(crops) == pytest.approx(VAEScorer.default().score(crops))
