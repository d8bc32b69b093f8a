"""The stills default (``dose_flat``) on real held-out LFW photos degraded BEFORE alignment.

Each lfw/eval photo is degraded whole (JPEG, downscaling, Gaussian blur, noise; severities 0, 1/3,
2/3, 1) and then cropped the way ``facesel score`` crops a photo: YuNet runs on the degraded photo
itself and its landmarks align the crop. The previous default (``dose``) is scored on the same VAE
pass and compared in the same test: the new rule must fall with JPEG quality and downscaling, and
clearly more than the old one with JPEG (which it barely noticed), while it keeps falling with blur
and noise. Also the statistic it adds, :func:`flat_fraction`, on real crops and on hand-made ones.
"""

from __future__ import annotations

import numpy as np
import pytest
from facesel.eval.degrade import degrade
from facesel.eval.evidence import (
    degradation_grid_own_crop,
    lfw_eval_photos,
    spearman_per_kind,
)
from facesel.faceset import align_tight_crop
from facesel.scoring import VAEScorer
from facesel.scoring.vae_methods import METHODS, flat_fraction

KINDS = ("jpeg", "downscale", "gaussian_blur", "noise")
PHOTOS = 40


@pytest.fixture(scope="module")
def photos(shared_data):
    return lfw_eval_photos(shared_data, PHOTOS)


@pytest.fixture(scope="module")
def grid(photos):
    """Spearman(severity, score) per kind for the new and the old rule, from one VAE pass (L = 10)."""
    crops, kind_idx, sev, _ = degradation_grid_own_crop(photos, kinds=KINDS, seed=3)
    scorer = VAEScorer.default(samples=10, seed=0)
    assert scorer.method == "dose_flat"  # the model card's stills default
    rules = ("dose_flat", "dose")
    table = scorer.run_batches(
        crops, lambda out, chunk: np.stack([METHODS[r](out, chunk, scorer.calibration) for r in rules], axis=1), columns=2
    )
    return {r: spearman_per_kind(table[:, i], kind_idx, sev, KINDS) for i, r in enumerate(rules)}


@pytest.mark.slow
def test_new_default_falls_with_jpeg_quality_where_the_old_one_barely_did(grid):
    new, old = grid["dose_flat"]["jpeg"], grid["dose"]["jpeg"]
    # Measured on lfw/eval (120 photos, experiments/stills_degradation.py): -0.65 against -0.29.
    assert new <= -0.5 and new <= old - 0.2, f"JPEG: dose_flat {new:+.2f}, dose {old:+.2f}"


@pytest.mark.slow
def test_new_default_falls_with_downscaling(grid):
    new, old = grid["dose_flat"]["downscale"], grid["dose"]["downscale"]
    assert new <= -0.8 and new <= old + 0.05, f"downscale: dose_flat {new:+.2f}, dose {old:+.2f}"


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["gaussian_blur", "noise"])
def test_new_default_still_falls_with_blur_and_noise(grid, kind):
    new, old = grid["dose_flat"][kind], grid["dose"][kind]
    # The added statistic rewards noise a little (noise leaves no flat patch): allowed 0.05.
    assert new <= -0.75 and new <= old + 0.05, f"{kind}: dose_flat {new:+.2f}, dose {old:+.2f}"


def test_flat_fraction_on_hand_made_crops():
    flat = np.full((1, 64, 64), 120, np.uint8)
    noisy = np.random.default_rng(0).integers(0, 256, (1, 64, 64)).astype(np.uint8)
    half = flat.copy()
    half[:, :, 32:] = noisy[:, :, 32:]  # flat left half, noise right half
    got = flat_fraction(np.concatenate([flat, noisy, half]))
    assert got[0] == 1.0 and got[1] == 0.0
    # the 48x48 centre: columns 8..31 flat except the patch column touching the noise (column 31)
    assert got[2] == pytest.approx(23 / 48)
    with pytest.raises(ValueError, match="crops"):
        flat_fraction(np.zeros((1, 64, 64), np.float32))
    with pytest.raises(ValueError, match="crops"):
        flat_fraction(np.zeros((1, 16, 16), np.uint8))


def test_flat_fraction_grows_when_the_photo_was_compressed_hard(photos):
    """Real lfw/eval photos: their own crops hold almost no flat patch; at JPEG quality 5 (severity
    1) of the photo most crops hold many."""
    from facesel.detectors import YuNetDetector

    detector = YuNetDetector(min_confidence=0.5)
    sample = photos[:12]

    def crops(kind, severity):
        return np.stack([align_tight_crop(degrade(p, kind, severity, np.random.default_rng(0)), detector)[0] for p in sample])

    clean = flat_fraction(crops("jpeg", 0.0))
    jpeg = flat_fraction(crops("jpeg", 1.0))
    assert np.median(clean) < 0.01, clean
    assert np.median(jpeg) > 10 * max(np.median(clean), 0.001) and np.mean(jpeg > clean) >= 0.9, (clean, jpeg)
