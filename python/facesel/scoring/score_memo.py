"""Scores of crops already scored, by the crops' pixels: so that one process does not run the VAE
twice on the same crop for the same rule (issue 23, speed: the pick rule scores every crop's
``dose`` within a track, and the not-a-face vote asks for the ``dose`` of a track's finalists)."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

import numpy as np


class ScoreMemo:
    """The last ``capacity`` (crop, score) pairs one rule produced, looked up by the crop's bytes.

    A crop is found only when its pixels, shape and dtype are exactly those that were scored, so a
    score read here is the score the rule would compute again (the VAE scores a crop the same in
    any batch: per-crop noise, and on the CPU the same bits, ``tests/test_face_vote.py``). Memory:
    ``capacity`` 16-byte digests and floats (about 0.5 MB at the default). Thread-safe: the
    Selector's scoring stage and its finaliser may run on different threads.

    Parameters
    ----------
    capacity : int >= 1
        Pairs kept; the least recently stored or read go first.
    """

    def __init__(self, capacity: int = 4096) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise ValueError(f"capacity must be an int >= 1, got {capacity!r}")
        self.capacity = capacity
        self._scores: OrderedDict[bytes, float] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(crop: np.ndarray) -> bytes:
        crop = np.ascontiguousarray(crop)
        return hashlib.blake2b(f"{crop.dtype}{crop.shape}".encode() + crop.tobytes(), digest_size=16).digest()

    def put(self, crops: np.ndarray, scores: np.ndarray) -> None:
        """Remember ``scores[k]`` for ``crops[k]`` ((N, 64, 64) uint8 and (N,) float)."""
        scores = np.asarray(scores, np.float64).reshape(-1)
        if len(crops) != len(scores):
            raise ValueError(f"{len(crops)} crops and {len(scores)} scores")
        keys = [self._key(c) for c in crops]
        with self._lock:
            for key, value in zip(keys, scores.tolist()):
                self._scores[key] = value
                self._scores.move_to_end(key)
            while len(self._scores) > self.capacity:
                self._scores.popitem(last=False)

    def get(self, crop: np.ndarray) -> float | None:
        """The score stored for exactly this crop ((64, 64) uint8, matched by its bytes), or None."""
        key = self._key(crop)
        with self._lock:
            value = self._scores.get(key)
            if value is not None:
                self._scores.move_to_end(key)
            return value

    def __len__(self) -> int:
        with self._lock:
            return len(self._scores)
