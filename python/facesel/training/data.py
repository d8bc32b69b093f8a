"""Training crops: exactly the crops the pipeline scores (facesel.faceset.load_face_folder).

Aligning thousands of images takes minutes, so the crops can be cached in an ``.npz`` file. The
cache holds plaintext face crops: keep it outside the repository (e.g. under /tmp) and delete it
when done.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def load_training_crops(data_dir: Path, cache: Path | None = None, progress: bool = True) -> np.ndarray:
    """(N, 64, 64) uint8 aligned grey crops of every image under ``data_dir/<identity>/``.

    Parameters
    ----------
    data_dir : Path
        Face folder (e.g. ``shared/data/faces/lfw/train``; never an evaluation folder).
    cache : Path, optional
        ``.npz`` file: read when it exists and was made from the same folder, written otherwise.
    progress : bool
        Show a progress bar while aligning.
    """
    from facesel.faceset import load_face_folder

    data_dir = Path(data_dir).resolve()
    if cache is not None and Path(cache).is_file():
        with np.load(cache, allow_pickle=False) as npz:
            if "source" in npz and str(npz["source"]) == str(data_dir):
                return npz["grey"]
    faces = load_face_folder(data_dir, progress=progress)
    if len(faces) == 0:
        raise ValueError(f"no face images found under {data_dir}")
    if cache is not None:
        np.savez_compressed(cache, grey=faces.grey, source=np.array(str(data_dir)), detected=faces.detected)
    return faces.grey


def to_tensor_batch(crops: np.ndarray):
    """(B, 64, 64) uint8 -> (B, 1, 64, 64) float32 tensor in [0, 1] (the scorer uses the same scaling)."""
    import torch

    return torch.from_numpy(crops.astype(np.float32)[:, None] / 255.0)
