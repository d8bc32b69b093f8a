"""What the evaluation's quality methods are built from, and how one says it cannot be built.

Apart from the registry (:mod:`facesel.eval.methods`) so that the modules building methods
(:mod:`facesel.eval.supervised`, :mod:`facesel.eval.vae_methods`) import these names without
importing the registry that imports them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

QualityFn = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""A built method: (crops (N, 64, 64) uint8, image_side (N,) float) -> (N,) float64 quality."""


class MethodUnavailable(RuntimeError):
    """The method cannot run in this installation; the message says why."""


class MethodContext:
    """What methods may need to build themselves; everything heavy is loaded on first use.

    Parameters
    ----------
    train_dir : Path or None
        ``<identity>/<image>`` training faces (``lfw/train``); never the evaluation set.
    detector : Detector
        Used to align the training crops exactly like the evaluation crops.
    matcher, cache : optional
        Needed only by the supervised baseline (its targets are matcher distances).
    train_limit : int, optional
        Use only the first N training images (for quick tests).
    progress : bool
    vae_model : Path, optional
        VAE model folder (default: the model shipped in the package).
    """

    def __init__(
        self, train_dir, detector, matcher=None, cache=None, train_limit=None, progress=False, vae_model=None
    ) -> None:
        self.train_dir = None if train_dir is None else Path(train_dir)
        self.detector = detector
        self.matcher = matcher
        self.cache = cache
        self.train_limit = train_limit
        self.progress = progress
        self.vae_model = None if vae_model is None else Path(vae_model)
        self.shared: dict = {}  # per-run helpers shared by methods (e.g. one VAE decoder pass)
        self._faceset = None
        self._pca = None
        self.notes: list[str] = []

    def train_faces(self):
        """The aligned training crops (:class:`facesel.faceset.FaceSet`), kept in memory only."""
        if self.train_dir is None or not self.train_dir.is_dir():
            raise MethodUnavailable(f"no training folder (lfw/train) found at {self.train_dir}: pass --train DIR")
        if self._faceset is None:
            from facesel.faceset import load_face_folder

            self._faceset = load_face_folder(self.train_dir, self.detector, self.train_limit, self.progress)
            if len(self._faceset) < 100:
                raise MethodUnavailable(f"only {len(self._faceset)} training faces in {self.train_dir}; need >= 100")
        return self._faceset

    def pca(self):
        """The eigenface model fitted on the training crops (shared by two methods)."""
        if self._pca is None:
            from facesel.scoring.baselines import PCAReconstructionScorer

            self._pca = PCAReconstructionScorer(n_components=50).fit(self.train_faces().grey)
            self.notes.append(f"PCA: 50 eigenfaces fitted on {len(self.train_faces())} training crops")
        return self._pca
