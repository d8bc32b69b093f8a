"""The stills rule for a photograph: the VAE's ``dose_flat`` on the aligned crop, minus the photo's
JPEG grid term measured before alignment (issue 22).

``dose_flat`` sees only the 64x64 crop, where a photo's JPEG blocks have lost their grid, so it
barely tells a quality-77 copy from its original. The photo still holds the grid:
:func:`facesel.scoring.jpeg_grid.grid_zero_excess` counts the AC coefficients the codec zeroed on
the photo's own 8x8 grid inside the face box, and :func:`facesel.scoring.jpeg_grid.jpeg_grid_penalty`
subtracts it from dose_flat's score as one more one-sided term (the standardised excess above clean
training photos, linear), calibrated on clean training photos: no weight to fit. ``facesel score`` uses it; a bare crop (no photo, e.g.
PickScorer's no-context fallback) keeps ``dose_flat``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facesel.scoring.jpeg_grid import (
    calibrate_jpeg_grid,
    grid_zero_excess,
    jpeg_grid_penalty,
)
from facesel.scoring.vae import VAEScorer


def face_in_photo(image: np.ndarray, detector) -> tuple[np.ndarray, np.ndarray, bool, float]:
    """The face nearest the centre of a photo as the stills rule sees it.

    Returns the aligned (64, 64) uint8 grey crop (:func:`facesel.faceset.align_tight_crop`'s), the
    face box (4,) float32 in the photo's own pixel coordinates (the whole photo when no face is
    found), whether the detector found it, and the photo's :func:`grid_zero_excess` in that box.
    """
    from facesel.align import align_face
    from facesel.faceset import locate_tight_face

    padded, box, landmarks, found = locate_tight_face(image, detector)
    dy, dx = (padded.shape[0] - image.shape[0]) // 2, (padded.shape[1] - image.shape[1]) // 2
    own = np.asarray(box, np.float32) - np.array([dx, dy, dx, dy], np.float32)
    return align_face(padded, box, landmarks).grey, own, found, grid_zero_excess(image, own)


def calibrate_photos(data_dir: Path, n: int = 512, detector=None) -> dict:
    """The JPEG grid term's calibration (:func:`calibrate_jpeg_grid`) on ``n`` clean photos of a
    training folder ``<identity>/<image>``, evenly spaced through its sorted list; never an
    evaluation folder."""
    from facesel.faceset import list_images, read_image

    if detector is None:
        from facesel.detectors import YuNetDetector

        detector = YuNetDetector(min_confidence=0.5)
    items = list_images(Path(data_dir))
    if len(items) < 2:
        raise ValueError(f"{data_dir}: need at least 2 images to calibrate the JPEG grid term, found {len(items)}")
    picks = np.unique(np.linspace(0, len(items) - 1, min(n, len(items))).round().astype(int))
    return calibrate_jpeg_grid(np.array([face_in_photo(read_image(items[k][1]), detector)[3] for k in picks]))


class PhotoScorer:
    """``dose_flat`` of each face's crop minus the JPEG grid penalty of its photo.

    Parameters
    ----------
    vae : VAEScorer, optional
        The crop scorer; default ``VAEScorer(method="dose_flat", **settings)`` (the model card's
        calibration must hold ``jpeg_grid_mean`` and ``jpeg_grid_std``: ``facesel calibrate`` writes them).
    tail : {"laplace", "gaussian"}
        How the term grows with the standardised excess z (:func:`jpeg_grid_penalty`): z (default)
        or z^2 (the first version, kept as a setting).
    """

    name = "vae-dose_flat+jpeg_grid"

    def __init__(self, vae: VAEScorer | None = None, tail: str = "laplace", **settings) -> None:
        self.vae = vae if vae is not None else VAEScorer(method="dose_flat", **settings)
        self.tail = tail
        self.method = self.vae.method
        self.calibration = self.vae.calibration
        jpeg_grid_penalty(np.zeros(1), self.calibration, tail)  # fail now, naming the key or the tail

    def score(self, crops: np.ndarray, grid_excess: np.ndarray) -> np.ndarray:
        """(N, 64, 64) uint8 crops and (N,) float :func:`grid_zero_excess` of their photos -> (N,) float64, higher is better."""
        grid_excess = np.asarray(grid_excess, np.float64)
        if grid_excess.shape != (len(crops),):
            raise ValueError(f"grid_excess must have shape ({len(crops)},), one value per crop, got {grid_excess.shape}")
        return self.vae.score(crops) - jpeg_grid_penalty(grid_excess, self.calibration, self.tail)

    def __repr__(self) -> str:
        return f"PhotoScorer(vae={self.vae!r}, tail={self.tail!r})"
