"""The recognition-free baselines and the supervised regressor, on real aligned faces (ORL)."""

from __future__ import annotations

import numpy as np
import pytest
from facesel.eval.degrade import degrade
from facesel.faceset import load_face_folder
from facesel.scoring.baselines import (
    BrightnessScorer,
    ContrastScorer,
    DistanceRegressor,
    PCAReconstructionScorer,
    face_size_quality,
)


@pytest.fixture(scope="module")
def crops(shared_data):
    faces = load_face_folder(shared_data / "faces" / "orl", limit=160)
    return faces.grey


def _degraded(crops, kind, severity, seed=0):
    rng = np.random.default_rng(seed)
    return np.stack([degrade(c, kind, severity, rng) for c in crops])


def test_pca_error_is_low_on_faces_it_models_and_high_on_noisy_ones(crops):
    train, test = crops[:120], crops[120:]
    pca = PCAReconstructionScorer(n_components=30).fit(train)
    assert pca.components_.shape == (30, 64 * 64)
    np.testing.assert_allclose(pca.components_ @ pca.components_.T, np.eye(30), atol=1e-8)  # orthonormal
    clean, noisy = pca.score(test), pca.score(_degraded(test, "noise", 0.8))
    assert np.all(noisy < clean)
    # Training faces are modelled better than unseen ones on average.
    assert pca.reconstruction_error(train).mean() < pca.reconstruction_error(test).mean()
    # With as many components as the data has degrees of freedom, training crops are reconstructed exactly.
    full = PCAReconstructionScorer(n_components=40).fit(train[:41])
    assert full.reconstruction_error(train[:41]).max() < 1e-20


def test_brightness_and_contrast_rank_their_own_degradations_low(crops):
    test = crops[:40]
    assert np.all(BrightnessScorer().score(_degraded(test, "darken", 0.8)) < BrightnessScorer().score(test))
    assert np.all(ContrastScorer().score(_degraded(test, "low_contrast", 0.8)) < ContrastScorer().score(test))
    assert np.all(BrightnessScorer().score(test) <= 0) and np.all(ContrastScorer().score(test) >= 0)


def test_face_size_quality_validates_sizes():
    np.testing.assert_array_equal(face_size_quality([64, 128]), [64.0, 128.0])
    with pytest.raises(ValueError, match="image_sides"):
        face_size_quality([64, 0])


def test_distance_regressor_learns_a_target_its_features_carry(crops):
    # A target the features can explain (the crop's blur level through its sharpness), on real crops
    # blurred by known amounts: the regressor must beat predicting the mean by far.
    rng = np.random.default_rng(1)
    severity = rng.uniform(0, 1, len(crops))
    blurred = np.stack([degrade(c, "gaussian_blur", float(s), rng) for c, s in zip(crops, severity)])
    pca = PCAReconstructionScorer(n_components=20).fit(crops[:100])
    model = DistanceRegressor(pca).fit(blurred[:120], 0.4 + 0.3 * severity[:120])
    assert model.cv_rmse_ < 0.5 * model.baseline_rmse_
    held_out = model.predict(blurred[120:])
    assert np.corrcoef(held_out, severity[120:])[0, 1] > 0.8
    np.testing.assert_allclose(model.score(blurred[120:]), -held_out)


def test_unfitted_and_bad_settings_fail_clearly(crops):
    with pytest.raises(ValueError, match="n_components"):
        PCAReconstructionScorer(n_components=0)
    with pytest.raises(RuntimeError, match="not fitted"):
        PCAReconstructionScorer().score(crops[:2])
    with pytest.raises(ValueError, match="more than n_components"):
        PCAReconstructionScorer(n_components=50).fit(crops[:10])
    pca = PCAReconstructionScorer(n_components=5).fit(crops[:20])
    with pytest.raises(ValueError, match="distance must have shape"):
        DistanceRegressor(pca).fit(crops[:20], np.zeros(3))
    with pytest.raises(TypeError, match="uint8"):
        BrightnessScorer().score(crops[:2].astype(np.float32))
