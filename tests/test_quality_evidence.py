"""Evidence that the default quality score measures quality, on real held-out faces.

Faces: lfw/eval and orl (never lfw/train), through the pipeline's crop function. For each of the
eight self-made degradations the default score must fall with severity (Spearman <= -0.8 pooled
over faces); real faces must outscore background crops of the shared videos (AUROC >= 0.95); L = 1
with z = mu_z must rank like L = 10; on the hand-held selfie video the default must prefer sharp
frames. The paper's plain log reconstruction probability is measured beside it on the same VAE
outputs, to show the bias the default corrects.
"""

from __future__ import annotations

import numpy as np
import pytest
from facesel.eval.degrade import KINDS
from facesel.eval.evidence import (
    auroc,
    background_crops,
    degradation_grid,
    held_out_faces,
    selfie_track,
    spearman,
    spearman_per_kind,
)
from facesel.scoring import VAEScorer
from facesel.scoring.vae_methods import METHODS

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
    rules = (default.method, "paper")
    table = default.run_batches(
        crops, lambda out, chunk: np.stack([METHODS[r](out, chunk, default.calibration) for r in rules], axis=1), columns=2
    )
    return {"default": table[:, 0], "paper": table[:, 1]}, kind_idx, sev


@pytest.mark.parametrize("kind", KINDS)
def test_default_falls_with_every_degradation(grid_scores, kind):
    both, kind_idx, sev = grid_scores
    rho = spearman_per_kind(both["default"], kind_idx, sev)[kind]
    paper = spearman_per_kind(both["paper"], kind_idx, sev)[kind]
    assert rho <= -0.8, f"{kind}: Spearman(severity, score) default {rho:+.2f} (paper {paper:+.2f})"


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


def _selfie_verdict(scores: np.ndarray, sharpness: np.ndarray) -> tuple[float, float, float]:
    """(sharpness percentile of the best-scored frame, lowest percentile among the top 3, Spearman)."""
    order = np.argsort(scores)
    pct = [float(np.mean(sharpness <= sharpness[i])) for i in order[-3:]]
    return pct[-1], min(pct), spearman(scores, sharpness)


@pytest.fixture(scope="module")
def selfie(shared_data):
    crops, sharpness, coverage = selfie_track(shared_data)
    assert len(crops) >= 30, f"only {len(crops)} selfie frames had a detected face"
    return crops, sharpness, coverage


# Under the previous stills default (dose) the ONNX Runtime engine (float landmarks) failed this
# check: best-scored frame the 8th sharpest of 50 (percentile 0.86, VAE seeds 0-2). Under dose_flat
# both engines keep the 5th sharpest (0.92, seeds 0-2); Spearman with sharpness 0.55-0.56 (dose
# 0.66-0.67), with frame coverage 0.59-0.61 (dose 0.50-0.54): experiments/stills_degradation.py --only selfie.
@pytest.mark.parametrize("engine", ["yuface", "onnxruntime"])
def test_selfie_video_prefers_sharp_frames(default, shared_data, engine):
    """How it is checked: every 2nd frame of the hand-held selfie video, largest face, aligned crop
    scored; the reference is the Laplacian variance of the face box at native resolution (an
    independent look at motion blur). The frame the default keeps must be among the sharpest 10 %,
    its top 3 all sharper than the median, and scores must rank with sharpness (Spearman >= 0.5).
    Per YuNet engine: the crops follow the detector's landmarks, and one frame decides "best"."""
    from facesel.detect.yunet import YuNetDetector

    crops, sharpness, _ = selfie_track(shared_data, detector=YuNetDetector(min_confidence=0.5, engine=engine))
    best, top3, rho = _selfie_verdict(default.score(crops), sharpness)
    assert best >= 0.9 and top3 >= 0.5 and rho >= 0.5, f"best {best:.2f}, top-3 min {top3:.2f}, Spearman {rho:+.2f}"


def test_selfie_default_ranks_sharpness_better_than_the_paper(default, selfie):
    """The paper's likelihood prefers the blurred selfie frames (Spearman < 0 with sharpness); the
    default must rank them the right way round, and clearly better than the paper."""
    crops, sharpness, _ = selfie
    rho_default = spearman(default.score(crops), sharpness)
    rho_paper = spearman(VAEScorer.paper(samples=10).score(crops), sharpness)
    assert rho_paper < 0 < rho_default and rho_default - rho_paper >= 0.5, (rho_default, rho_paper)


def test_selfie_crops_cut_by_the_frame_edge_score_lower(default, selfie):
    """A crop that is partly border streaks (the face reaches past the frame edge) is a worse
    snapshot whatever its sharpness: the default must rank selfie crops with their frame coverage."""
    crops, _, coverage = selfie
    rho = spearman(default.score(crops), coverage)
    assert rho >= 0.4, f"Spearman(default score, frame coverage) = {rho:+.2f}"
