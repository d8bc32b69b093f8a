"""The image statistics behind the ``dose`` rule's JPEG and motion-blur sensitivity, on real ORL faces.

blockiness: strong JPEG raises it wherever the 8-pixel grid starts in the crop, and blur does not.
log_anisotropy: motion blur lowers it more than an isotropic blur of similar strength.
Every statistic stays finite on a flat crop, where ratios of energies could divide zero by zero.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from facesel.eval.degrade import degrade
from facesel.scoring import VAEScorer
from facesel.scoring.vae_methods import STATISTICS, blockiness, directional_energy, quality_statistics


@pytest.fixture(scope="module")
def orl_images(shared_data):
    """(12, 112, 92) uint8: real ORL photos of 12 people (uncompressed PGM, so no grid to start with)."""
    paths = sorted((shared_data / "faces" / "orl").glob("s*/5.pgm"))[:12]
    return np.stack([cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in paths])


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)


@pytest.mark.parametrize("offset", [(0, 0), (3, 5), (7, 1)])
def test_strong_jpeg_raises_blockiness_at_any_grid_phase(orl_images, offset):
    """The whole photo is compressed, then a 64x64 window is cut at an offset from the block grid."""
    dy, dx = offset
    window = np.s_[:, 20 + dy : 84 + dy, 10 + dx : 74 + dx]  # 20, 10: multiples of neither 8
    clean = blockiness(orl_images[window])
    compressed = blockiness(np.stack([_jpeg(im, 10) for im in orl_images])[window])
    assert np.all(compressed > clean), (clean, compressed)
    assert np.median(compressed) > 3 * max(np.median(clean), 0.1), (np.median(clean), np.median(compressed))


def test_blur_does_not_look_blocky(orl_images):
    crops = orl_images[:, 20:84, 10:74]
    blurred = np.stack([cv2.GaussianBlur(c, (0, 0), 2.0) for c in crops])
    assert np.median(blockiness(blurred)) <= np.median(blockiness(crops)) + 0.1


def test_motion_blur_lowers_anisotropy_more_than_round_blur(orl_images):
    crops = np.stack([cv2.resize(im, (64, 64), interpolation=cv2.INTER_AREA) for im in orl_images])
    rng = np.random.default_rng(0)

    def log_anisotropy(images):
        energy = directional_energy(images)
        return np.log(energy.min(axis=1) / energy.max(axis=1))

    motion = np.stack([degrade(c, "motion_blur", 0.6, rng) for c in crops])
    round_blur = np.stack([degrade(c, "gaussian_blur", 0.4, rng) for c in crops])
    base, after_motion, after_round = log_anisotropy(crops), log_anisotropy(motion), log_anisotropy(round_blur)
    assert np.mean(after_motion < base) >= 0.9, (base, after_motion)
    assert np.median(base - after_motion) > 2 * np.median(np.abs(base - after_round)), (after_motion, after_round)


def test_every_statistic_is_finite_on_flat_and_real_crops(orl_images):
    crops = np.stack([cv2.resize(im, (64, 64), interpolation=cv2.INTER_AREA) for im in orl_images[:3]])
    crops = np.concatenate([crops, np.full((1, 64, 64), 128, np.uint8), np.zeros((1, 64, 64), np.uint8)])
    scorer = VAEScorer.default(samples=2)
    out = scorer.runner.run(crops, 2, False, 0)
    stats = quality_statistics(out, crops, list(STATISTICS))
    assert stats.shape == (len(crops), len(STATISTICS)) and np.all(np.isfinite(stats)), stats
    assert np.all(np.isfinite(scorer.score(crops)))


@pytest.mark.parametrize("shape", [(64, 64), (2, 10, 64), (1, 64, 17)])
def test_blockiness_rejects_bad_shapes(shape):
    with pytest.raises(ValueError, match="images must have shape"):
        blockiness(np.zeros(shape))


def test_fit_gaussian_diagonal_ignores_correlations_and_full_keeps_them():
    from facesel.training.calibrate import fit_gaussian

    rng = np.random.default_rng(0)
    a = rng.normal(size=2000)
    stats = np.stack([a, a + 0.1 * rng.normal(size=2000), rng.normal(size=2000)], axis=1)  # two correlated columns
    mean, diag = fit_gaussian(stats, covariance="diagonal")
    _, full = fit_gaussian(stats, covariance="full")
    assert np.allclose(mean, stats.mean(axis=0))
    assert np.count_nonzero(diag - np.diag(np.diag(diag))) == 0
    assert np.allclose(np.diag(diag), 1 / stats.var(axis=0, ddof=1), rtol=1e-4)
    assert full[0, 1] < -10  # the full precision weighs the difference of the correlated columns heavily
    with pytest.raises(ValueError, match="covariance must be one of"):
        fit_gaussian(stats, covariance="spherical")
    with pytest.raises(ValueError, match="more rows than statistics"):
        fit_gaussian(stats[:3])
