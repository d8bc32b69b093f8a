"""Evidence that the default quality score measures quality, on real held-out faces.

Faces: lfw/eval and orl (never lfw/train), through the pipeline's crop function. For each of the
eight self-made degradations the default score must fall with severity (Spearman <= -0.8 pooled
over faces); real faces must outscore background crops of the shared videos (AUROC >= 0.95); L = 1
with z = mu_z must rank like L = 10; on the hand-held selfie video the default must prefer sharp
frames. The paper's plain log reconstruction probability is measured beside it on the same VAE
outputs, to show the bias the default corrects.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from facesel.align import align_face
from facesel.degrade import KINDS
from facesel.scoring import VAEScorer
from facesel.scoring.vae_methods import METHODS

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))
from facesel_training.evidence import (  # noqa: E402
    auroc,
    background_crops,
    degradation_grid,
    held_out_faces,
    spearman,
    spearman_per_kind,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def default():
    return VAEScorer.default(samples=10, seed=0)


@pytest.fixture(scope="module")
def faces(shared_data):
    return held_out_faces(shared_data, n_lfw=60, n_orl=40)


@pytest.fixture(scope="module")
def grid_scores(default, faces):
    """Default and paper scores of every face x kind x severity, from one pass of the VAE."""
    crops, kind_idx, sev = degradation_grid(faces, seed=5)
    both = {"default": np.empty(len(crops)), "paper": np.empty(len(crops))}
    for start in range(0, len(crops), default.batch_size):
        chunk = crops[start : start + default.batch_size]
        out = default.runner.run(chunk, default.samples, default.use_mean, default.seed)
        both["default"][start : start + len(chunk)] = METHODS[default.method](out, chunk, default.calibration)
        both["paper"][start : start + len(chunk)] = METHODS["paper"](out, chunk, default.calibration)
    return both, kind_idx, sev


def test_default_falls_with_every_degradation(grid_scores):
    both, kind_idx, sev = grid_scores
    rho = spearman_per_kind(both["default"], kind_idx, sev)
    paper = spearman_per_kind(both["paper"], kind_idx, sev)
    report = {k: (round(rho[k], 2), round(paper[k], 2)) for k in KINDS}
    assert all(rho[k] <= -0.8 for k in KINDS), f"(default, paper) Spearman per kind: {report}"


def test_paper_score_has_the_simplicity_bias(grid_scores):
    """The uncorrected likelihood rises when a face is blurred or flattened (Nalisnick et al. 2019)."""
    both, kind_idx, sev = grid_scores
    paper = spearman_per_kind(both["paper"], kind_idx, sev)
    assert paper["gaussian_blur"] > 0 and paper["low_contrast"] > 0, paper


@pytest.fixture(scope="module")
def background(shared_data):
    return background_crops(shared_data, seed=1)


def test_faces_outscore_background_crops(default, faces, background):
    value = auroc(default.score(faces), default.score(background))
    assert value >= 0.95, f"AUROC face vs background = {value:.3f}"


def test_mean_latent_ranks_like_ten_samples(default, faces):
    one = VAEScorer.default(samples=1, use_mean=True).score(faces)
    rho = spearman(one, default.score(faces))
    assert rho >= 0.9, f"rank correlation L=1 (z = mu_z) vs L=10: {rho:.3f}"


def _selfie_track(shared_data, step: int = 3):
    """Aligned crops of the largest face in every ``step``-th selfie frame, and an independent
    sharpness reference: variance of the Laplacian of the face box at native resolution, resized
    to 256x256 (four times the scored crop's side, so it sees blur the 64x64 crop may hide)."""
    from facesel.detectors import YuNetDetector

    detector = YuNetDetector(min_confidence=0.5)
    cap = cv2.VideoCapture(str(shared_data / "videos" / "selfie_motion_blur_portrait.mp4"))
    crops, sharpness, i = [], [], 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        i += 1
        if (i - 1) % step:
            continue
        small = cv2.resize(frame, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
        det = detector.detect(small)
        if len(det) == 0:
            continue
        k = int(np.argmax((det.boxes[:, 2] - det.boxes[:, 0]) * (det.boxes[:, 3] - det.boxes[:, 1])))
        box, lm = det.boxes[k] * 2.0, det.landmarks[k] * 2.0
        crops.append(align_face(frame, box, lm).grey)
        x1, y1, x2, y2 = np.clip(box, 0, [frame.shape[1], frame.shape[0]] * 2).astype(int)
        region = cv2.resize(cv2.cvtColor(frame[y1:y2, x1:x2], cv2.COLOR_BGR2GRAY), (256, 256), interpolation=cv2.INTER_AREA)
        sharpness.append(cv2.Laplacian(region, cv2.CV_64F).var())
    cap.release()
    return np.stack(crops), np.array(sharpness)


def test_selfie_video_prefers_sharp_frames(default, shared_data):
    crops, sharpness = _selfie_track(shared_data)
    assert len(crops) >= 30, f"only {len(crops)} selfie frames had a detected face"
    scores = default.score(crops)
    best = np.argsort(scores)[-3:]  # the default's three favourite frames
    rank_of_best = [float(np.mean(sharpness <= sharpness[b])) for b in best]
    assert min(rank_of_best) >= 0.75, f"sharpness percentiles of the default's top 3 frames: {rank_of_best}"
    assert spearman(scores, sharpness) >= 0.5, f"Spearman(default, native sharpness) = {spearman(scores, sharpness):.2f}"
