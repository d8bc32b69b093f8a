"""Calibration constants some scoring rules need, measured on training faces with the exported model.

Only training crops are used (never evaluation faces). No torch: this runs the ONNX files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facesel.scoring.vae_methods import standardised_chi2
from facesel.scoring.vae_runtime import VAERunner


def calibrate(model_dir: Path, train_crops: np.ndarray, n: int = 512, seed: int = 0, samples: int = 10) -> dict:
    """{'chi2_median': median standardised chi2 of ``n`` random training crops, 'chi2_n': n}."""
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(train_crops), size=min(n, len(train_crops)), replace=False)
    runner = VAERunner(Path(model_dir) / "encoder.onnx", Path(model_dir) / "decoder.onnx")
    chi2 = []
    for start in range(0, len(idx), 32):
        chunk = train_crops[np.sort(idx[start : start + 32])]
        chi2.append(standardised_chi2(runner.run(chunk, samples, False, seed)))
    values = np.concatenate(chi2)
    return {"chi2_median": float(np.median(values)), "chi2_n": int(len(values))}
