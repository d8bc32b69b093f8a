"""Hand-made pictures and the scene cue's fires, shared by the fade and zoom tests (tv27, dissolve28).

No face and no shared data: blocky random "worlds" whose thumbnails differ by a known amount.
"""
from __future__ import annotations

import numpy as np

from facesel.track_cues import SceneChange


def world(seed: int = 1) -> np.ndarray:
    """(270, 480) float32 grey picture of 40-pixel blobs of random levels (0-254), fixed by `seed`."""
    rng = np.random.default_rng(seed)
    blobs = rng.integers(0, 255, (8, 14), dtype=np.uint8)
    return np.repeat(np.repeat(blobs, 40, 0), 40, 1)[:270, :480].astype(np.float32)


def fires(rule, frames) -> list:
    """(frame index, kind, cut_thumbs) of every fire of a `SceneChange(rule)` fed `frames` in order."""
    scene, out = SceneChange(rule), []
    for k, f in enumerate(frames):
        kind, _ = scene.update(f)
        if kind:
            out.append((k, kind, scene.cut_thumbs))
    return out
