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

import numpy as np
import pytest

from facesel.degrade import KINDS
from facesel.scoring import VAEScorer
from facesel.scoring.vae_methods import METHODS

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))
from facesel_training.evidence import (  # noqa: E402
    auroc,
    background_crops,
    degradation_grid,
    held_out_faces,
    selfie_track,
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


def test_selfie_video_prefers_sharp_frames(default, shared_data):
    crops, sharpness = selfie_track(shared_data)
    assert len(crops) >= 30, f"only {len(crops)} selfie frames had a detected face"
    scores = default.score(crops)
    best = np.argsort(scores)[-3:]  # the default's three favourite frames
    rank_of_best = [float(np.mean(sharpness <= sharpness[b])) for b in best]
    assert min(rank_of_best) >= 0.75, f"sharpness percentiles of the default's top 3 frames: {rank_of_best}"
    assert spearman(scores, sharpness) >= 0.5, f"Spearman(default, native sharpness) = {spearman(scores, sharpness):.2f}"
