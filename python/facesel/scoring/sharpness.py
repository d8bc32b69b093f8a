"""Variance of the Laplacian: a classic sharpness measure (Pech-Pacheco et al., ICPR 2000).

An honest, recognition-free baseline: it ranks blur correctly but knows nothing else about faces.
"""

from __future__ import annotations

import cv2
import numpy as np

from facesel.scoring.base import as_grey_batch


class LaplacianVarianceScorer:
    """Quality = log(1 + variance of the 3x3 Laplacian) of the grey crop."""

    def score(self, crops: np.ndarray) -> np.ndarray:
        """(N, 64, 64) uint8 grey (or BGR) -> (N,) float64."""
        crops = as_grey_batch(crops)
        out = np.empty(len(crops), dtype=np.float64)
        for i, crop in enumerate(crops):
            out[i] = np.log1p(cv2.Laplacian(crop, cv2.CV_64F).var())
        return out
