"""The face matcher used to judge quality measures: dlib's ResNet face embedding, Euclidean distance.

The paper used FaceNet, whose weights cannot be had offline; dlib's 128-d ResNet embedding
(``dlib_face_recognition_resnet_model_v1``, public domain, shipped with weights in the
``face_recognition_models`` package) is used instead. Install it with ``pip install facesel[eval]``.

Loading notes: ``import face_recognition_models`` needs ``pkg_resources``, which setuptools 81
removed, so the package is never imported; its ``models/`` folder is found through
:func:`importlib.util.find_spec`. The evaluation images are tight face crops, too tight for dlib's
own detector, so the whole image is given as the face rectangle to the 5-point shape predictor.
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import cv2
import numpy as np

MATCHER_NOTE = (
    "Matcher: dlib ResNet face embedding (dlib_face_recognition_resnet_model_v1, 128-d, Euclidean "
    "distance; 5-point landmarks predicted in the whole image). The paper used FaceNet, which is not "
    "available offline, so absolute error rates differ from the paper's."
)

_SHAPE_MODEL = "shape_predictor_5_face_landmarks.dat"
_EMBED_MODEL = "dlib_face_recognition_resnet_model_v1.dat"


def models_dir() -> Path:
    """The ``models/`` folder of ``face_recognition_models``, found without importing the package.

    Raises
    ------
    RuntimeError
        When the package is not installed or its model files are missing.
    """
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("face_recognition_models is not installed: pip install 'facesel[eval]'")
    folder = Path(list(spec.submodule_search_locations)[0]) / "models"
    for name in (_SHAPE_MODEL, _EMBED_MODEL):
        if not (folder / name).is_file():
            raise RuntimeError(f"face_recognition_models is incomplete: {folder / name} is missing")
    return folder


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


class DlibMatcher:
    """dlib ResNet embeddings of whole face images.

    Attributes
    ----------
    identity : str
        Names the model files (by content digest) and the settings; part of every cache key, so a
        different model never reuses another's cached embeddings.
    """

    dim = 128

    def __init__(self) -> None:
        try:
            import dlib
        except ImportError as err:
            raise RuntimeError("dlib is not installed: pip install 'facesel[eval]' (dlib-bin)") from err
        folder = models_dir()
        self._dlib = dlib
        self._shape = dlib.shape_predictor(str(folder / _SHAPE_MODEL))
        self._net = dlib.face_recognition_model_v1(str(folder / _EMBED_MODEL))
        self.identity = (
            f"dlib-{dlib.__version__}:{_file_digest(folder / _SHAPE_MODEL)}:"
            f"{_file_digest(folder / _EMBED_MODEL)}:whole-image-rect:jitters=0"
        )

    def embed(self, image: np.ndarray) -> np.ndarray:
        """Embed one face image.

        Parameters
        ----------
        image : (H, W, 3) uint8 BGR or (H, W) uint8 grey
            A tight face image: the whole image is taken as the face rectangle.

        Returns
        -------
        (128,) float32
        """
        image = np.asarray(image)
        if image.dtype != np.uint8:
            raise TypeError(f"image must be uint8, got dtype {image.dtype}")
        if image.ndim == 2:
            rgb = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
        elif image.ndim == 3 and image.shape[2] == 3:
            rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        else:
            raise ValueError(f"image must be (H, W) grey or (H, W, 3) BGR, got shape {image.shape}")
        h, w = rgb.shape[:2]
        if h < 8 or w < 8:
            raise ValueError(f"image must be at least 8x8 pixels, got {w}x{h}")
        rgb = np.ascontiguousarray(rgb)
        landmarks = self._shape(rgb, self._dlib.rectangle(0, 0, w - 1, h - 1))
        return np.asarray(self._net.compute_face_descriptor(rgb, landmarks), dtype=np.float32)


def distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise Euclidean distances: (N, D) and (N, D) -> (N,) float64."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"a and b must be (N, D) arrays of one shape, got {a.shape} and {b.shape}")
    return np.linalg.norm(a - b, axis=1)


def distance_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """All Euclidean distances: (N, D) and (M, D) -> (N, M) float64."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.sqrt(np.clip(sq, 0.0, None))
