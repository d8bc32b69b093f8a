"""Simple quality baselines to hold the VAE against.

All but the last need no face-recognition model, like the VAE:

* :class:`PCAReconstructionScorer`: eigenface reconstruction error (Turk and Pentland 1991; the
  "distance from face space"). Quality = minus the mean squared error of the reconstruction.
* :class:`BrightnessScorer`, :class:`ContrastScorer`: illumination heuristics in the spirit of
  ISO/IEC 29794-5 (mean grey level near mid-grey; RMS contrast).
* :func:`face_size_quality`: the shorter side of the face image in pixels (meaningful only where
  sizes vary; for tight crops of one size it is constant).

:class:`DistanceRegressor` is **supervised and needs a face-recognition model** for its training
targets (in the spirit of FaceQnet, Hernandez-Ortega et al. 2019): a ridge regression from simple
crop features to the matcher's distance between a face and another image of the same subject.
"""

from __future__ import annotations

import cv2
import numpy as np

from facesel.scoring.base import as_grey_batch


def _flat(crops: np.ndarray) -> np.ndarray:
    """(N, 64, 64) uint8 -> (N, 4096) float64 in [0, 1]."""
    crops = as_grey_batch(crops)
    return crops.reshape(len(crops), -1).astype(np.float64) / 255.0


def _top_components(centred: np.ndarray, k: int, oversample: int = 10, power_iterations: int = 4) -> np.ndarray:
    """(k, D) orthonormal rows spanning the top-k principal directions of ``centred`` (N, D).

    A full SVD of 5,000 x 4,096 faces takes minutes on a busy core; the randomised range finder of
    Halko, Martinsson and Tropp (SIAM Review 2011, algorithm 4.4 with power iterations) gets the
    top components in seconds. Small problems use the exact SVD. Seeded, so fits are reproducible.
    """
    n, d = centred.shape
    width = k + oversample
    if min(n, d) <= 2 * width:
        return np.linalg.svd(centred, full_matrices=False)[2][:k]
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(centred @ rng.standard_normal((d, width)))
    for _ in range(power_iterations):
        # Re-orthonormalise between products: without it, rounding collapses the small directions.
        q, _ = np.linalg.qr(centred.T @ q)
        q, _ = np.linalg.qr(centred @ q)
    return np.linalg.svd(q.T @ centred, full_matrices=False)[2][:k]


class PCAReconstructionScorer:
    """Eigenface model of aligned faces; quality = -(mean squared reconstruction error).

    Parameters
    ----------
    n_components : int
        Number of principal components kept (default 50).
    """

    def __init__(self, n_components: int = 50) -> None:
        if isinstance(n_components, bool) or not isinstance(n_components, int) or n_components < 1:
            raise ValueError(f"n_components must be a positive integer, got {n_components!r}")
        self.n_components = n_components
        self.mean_: np.ndarray | None = None
        self.components_: np.ndarray | None = None

    def fit(self, crops: np.ndarray) -> PCAReconstructionScorer:
        """Fit on (N, 64, 64) uint8 grey training crops; needs N > n_components."""
        x = _flat(crops)
        if len(x) <= self.n_components:
            raise ValueError(f"need more than n_components={self.n_components} training crops, got {len(x)}")
        self.mean_ = x.mean(axis=0)
        self.components_ = _top_components(x - self.mean_, self.n_components)
        return self

    def _check_fitted(self) -> None:
        if self.components_ is None:
            raise RuntimeError("PCAReconstructionScorer is not fitted: call fit(crops) first")

    def project(self, crops: np.ndarray) -> np.ndarray:
        """(N, 64, 64) uint8 -> (N, n_components) float64 eigenface coefficients."""
        self._check_fitted()
        return (_flat(crops) - self.mean_) @ self.components_.T

    def reconstruction_error(self, crops: np.ndarray) -> np.ndarray:
        """(N,) float64 mean squared error per pixel (pixels in [0, 1])."""
        self._check_fitted()
        centred = _flat(crops) - self.mean_
        residual = centred - (centred @ self.components_.T) @ self.components_
        return np.mean(residual**2, axis=1)

    def score(self, crops: np.ndarray) -> np.ndarray:
        """(N, 64, 64) uint8 -> (N,) float64, higher is better (smaller error)."""
        return -self.reconstruction_error(crops)


class BrightnessScorer:
    """Quality = -|mean grey level - 127.5| / 127.5: faces that are neither too dark nor too bright."""

    def score(self, crops: np.ndarray) -> np.ndarray:
        """(N, 64, 64) uint8 -> (N,) float64 in [-1, 0]."""
        crops = as_grey_batch(crops)
        mean = crops.reshape(len(crops), -1).mean(axis=1)
        return -np.abs(mean - 127.5) / 127.5


class ContrastScorer:
    """Quality = RMS contrast: the standard deviation of the grey levels, divided by 255."""

    def score(self, crops: np.ndarray) -> np.ndarray:
        """(N, 64, 64) uint8 -> (N,) float64 in [0, 0.5]."""
        crops = as_grey_batch(crops)
        return crops.reshape(len(crops), -1).std(axis=1) / 255.0


def face_size_quality(image_sides: np.ndarray) -> np.ndarray:
    """(N,) shorter side of each face image in pixels -> (N,) float64 quality (the side itself)."""
    sides = np.asarray(image_sides, dtype=np.float64)
    if sides.ndim != 1 or np.any(~np.isfinite(sides)) or np.any(sides <= 0):
        raise ValueError(f"image_sides must be a 1-D array of positive sizes, got shape {sides.shape}")
    return sides.copy()


def simple_features(crops: np.ndarray, pca: PCAReconstructionScorer) -> np.ndarray:
    """(N, k + 4) float64: eigenface coefficients, log reconstruction error, sharpness, brightness, contrast."""
    crops = as_grey_batch(crops)
    sharp = np.array([np.log1p(cv2.Laplacian(c, cv2.CV_64F).var()) for c in crops])
    extra = np.column_stack(
        [
            np.log(pca.reconstruction_error(crops) + 1e-12),
            sharp,
            BrightnessScorer().score(crops),
            ContrastScorer().score(crops),
        ]
    )
    return np.hstack([pca.project(crops), extra])


class DistanceRegressor:
    """Supervised baseline (needs a face-recognition model to make its targets).

    Ridge regression from :func:`simple_features` to the matcher distance between a face and another
    image of its subject; quality = minus the predicted distance. Features are standardised on the
    training set; the ridge strength is chosen by 5-fold cross-validation from ``alphas``.

    Parameters
    ----------
    pca : PCAReconstructionScorer
        A fitted eigenface model (its coefficients are features).
    alphas : tuple of float
        Candidate ridge strengths.
    """

    def __init__(self, pca: PCAReconstructionScorer, alphas: tuple = (0.1, 1.0, 10.0, 100.0, 1000.0)) -> None:
        pca._check_fitted()
        if not alphas or any(float(a) <= 0 for a in alphas):
            raise ValueError(f"alphas must be positive numbers, got {alphas!r}")
        self.pca = pca
        self.alphas = tuple(float(a) for a in alphas)
        self.alpha_: float | None = None
        self.coef_: np.ndarray | None = None

    @staticmethod
    def _solve(x: np.ndarray, y: np.ndarray, alpha: float) -> np.ndarray:
        return np.linalg.solve(x.T @ x + alpha * np.eye(x.shape[1]), x.T @ y)

    def fit(self, crops: np.ndarray, distance: np.ndarray, seed: int = 0) -> DistanceRegressor:
        """Fit on (N, 64, 64) uint8 crops and their (N,) float target distances."""
        y = np.asarray(distance, dtype=np.float64)
        feats = simple_features(crops, self.pca)
        if y.shape != (len(feats),):
            raise ValueError(f"distance must have shape ({len(feats)},), got {y.shape}")
        if len(y) < 10:
            raise ValueError(f"need at least 10 training crops, got {len(y)}")
        self._mu, self._sd = feats.mean(0), feats.std(0) + 1e-12
        x = (feats - self._mu) / self._sd
        self._y0 = y.mean()
        folds = np.random.default_rng(seed).permutation(len(y)) % 5
        cv_error = []
        for alpha in self.alphas:
            err = 0.0
            for k in range(5):
                tr, te = folds != k, folds == k
                w = self._solve(x[tr], y[tr] - y[tr].mean(), alpha)
                err += np.sum((x[te] @ w + y[tr].mean() - y[te]) ** 2)
            cv_error.append(err / len(y))
        self.alpha_ = self.alphas[int(np.argmin(cv_error))]
        self.cv_rmse_ = float(np.sqrt(min(cv_error)))
        self.baseline_rmse_ = float(np.std(y))  # predicting the mean: what the features must beat
        self.coef_ = self._solve(x, y - self._y0, self.alpha_)
        return self

    def predict(self, crops: np.ndarray) -> np.ndarray:
        """(N,) float64 predicted matcher distance."""
        if self.coef_ is None:
            raise RuntimeError("DistanceRegressor is not fitted: call fit(crops, distance) first")
        x = (simple_features(crops, self.pca) - self._mu) / self._sd
        return x @ self.coef_ + self._y0

    def score(self, crops: np.ndarray) -> np.ndarray:
        """(N, 64, 64) uint8 -> (N,) float64, higher is better (smaller predicted distance)."""
        return -self.predict(crops)
