"""Typed Python wrappers over the compiled core, so that users never touch ``facesel._core``."""

from __future__ import annotations

import numpy as np

from facesel import _backend, _core


def gaussian_log_rp(x: np.ndarray, mu: np.ndarray, log_sigma: np.ndarray, *, device: str = "auto") -> np.ndarray:
    """Gaussian log reconstruction probability of a VAE, averaged over L latent samples.

    ``log RP = logsumexp_l( sum_i log N(x_i | mu_li, exp(log_sigma_li)) ) - log L``

    Parameters
    ----------
    x : (N, D) float32
        The inputs, flattened (e.g. D = 64*64 grey pixels scaled to [0, 1]).
    mu, log_sigma : (N, L, D) float32
        Decoder means and log standard deviations for L latent samples per input.
    device : {"auto", "cpu", "cuda"}
        "auto" uses the CUDA kernel when a device is usable, else the CPU core.

    Returns
    -------
    (N,) float64
    """
    if device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {device!r}")
    if device == "cuda" and not _backend.HAS_CUDA:
        raise RuntimeError("device='cuda' was asked for but no usable CUDA device (facesel.HAS_CUDA is False)")
    if device != "cpu" and _backend.HAS_CUDA:
        return _backend._cuda.gaussian_log_rp(x, mu, log_sigma)
    return _core.gaussian_log_rp(x, mu, log_sigma)
