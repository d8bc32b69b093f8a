"""Embeddings cached on disk by content hash, so that a rerun skips the slow matcher.

**The cache folder is sensitive.** A face embedding is a biometric template: it can identify the
person it was computed from. The folder is created private to the user (mode 0700), it defaults to
a folder inside the evaluation's output directory (never the repository), and it should be
deleted, or kept as carefully as the face images themselves, when the evaluation is done.

Key: SHA-256 of the matcher's identity, the image's shape and dtype, and its pixels. A degraded
copy of an image therefore has its own entry, and a different model never reuses an entry.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

CACHE_WARNING = (
    "The embedding cache holds biometric templates (face embeddings): keep it private and delete it "
    "when done."
)


class EmbeddingCache:
    """Folder of ``<key[:2]>/<key>.npy`` files, one (D,) float32 embedding each.

    Parameters
    ----------
    folder : path-like
        Created with mode 0700 when missing.
    matcher_identity : str
        Mixed into every key.
    """

    def __init__(self, folder, matcher_identity: str) -> None:
        if not isinstance(matcher_identity, str) or not matcher_identity:
            raise ValueError(f"matcher_identity must be a non-empty string, got {matcher_identity!r}")
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._identity = matcher_identity.encode()
        self.hits = 0
        self.misses = 0

    def key(self, image: np.ndarray) -> str:
        """Hex SHA-256 of the matcher identity, shape, dtype and pixels of ``image``."""
        image = np.ascontiguousarray(image)
        h = hashlib.sha256(self._identity)
        h.update(repr((image.shape, image.dtype.str)).encode())
        h.update(image.tobytes())
        return h.hexdigest()

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.npy"

    def get(self, key: str) -> np.ndarray | None:
        """The cached embedding, or None (also when the file is unreadable: it is then recomputed)."""
        path = self._path(key)
        if not path.is_file():
            self.misses += 1
            return None
        try:
            value = np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            self.misses += 1
            return None
        self.hits += 1
        return value

    def put(self, key: str, embedding: np.ndarray) -> None:
        """Store atomically (write to a temporary name, then rename)."""
        path = self._path(key)
        path.parent.mkdir(exist_ok=True, mode=0o700)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            np.save(fh, np.asarray(embedding, dtype=np.float32), allow_pickle=False)
        os.replace(tmp, path)


def embed_all(matcher, images: list, cache: EmbeddingCache | None = None, progress: bool = False, desc: str = "embedding") -> np.ndarray:
    """Embed every image, using and filling ``cache`` when given.

    Parameters
    ----------
    matcher : object with ``embed(image) -> (D,) float32`` and ``dim``
    images : list of (H, W, 3) or (H, W) uint8 arrays
    cache : EmbeddingCache, optional
    progress : bool
        Show a tqdm progress bar (on stderr) over the images that are not cached.

    Returns
    -------
    (N, D) float32
    """
    out = np.zeros((len(images), matcher.dim), dtype=np.float32)
    todo = []
    keys = [None] * len(images)
    for i, image in enumerate(images):
        if cache is not None:
            keys[i] = cache.key(image)
            hit = cache.get(keys[i])
            if hit is not None and hit.shape == (matcher.dim,):
                out[i] = hit
                continue
        todo.append(i)
    iterator = todo
    if progress and todo:
        from tqdm import tqdm

        iterator = tqdm(todo, desc=desc, unit="img")
    for i in iterator:
        out[i] = matcher.embed(images[i])
        if cache is not None:
            cache.put(keys[i], out[i])
    return out
