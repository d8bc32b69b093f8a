"""VAEScorer: the unsupervised VAE face-quality model, run with ONNX Runtime (no torch needed).

The encoder runs once per crop, the decoder on L latent samples per crop, and a scoring rule of
:mod:`facesel.scoring.vae_methods` turns the outputs into one number (higher is better). The
paper's rule is the Gaussian log reconstruction probability, reduced by the C++ core (or its CUDA
kernel when ``facesel.HAS_CUDA``).
"""

from __future__ import annotations

import json
import numbers
from importlib import resources
from pathlib import Path

import numpy as np

from facesel import _backend
from facesel.detect.base import MAX_ONNX_THREADS
from facesel.scoring.base import as_grey_batch
from facesel.scoring.vae_methods import METHODS
from facesel.scoring.vae_runtime import shared_runner

SHIPPED_MODEL = "vae"
"""Folder name, under ``facesel/models``, of the weights trained for facesel."""

FALLBACK_METHOD = "paper"


def shipped_model_dir(name: str = SHIPPED_MODEL) -> Path:
    """Path of a model folder shipped in the package (``facesel/models/<name>``)."""
    path = Path(str(resources.files("facesel") / "models" / name))
    if not (path / "encoder.onnx").is_file():
        raise FileNotFoundError(f"shipped model {name!r} not found at {path} (is the package installed completely?)")
    return path


def _require_onnxruntime_cuda(device: str) -> None:
    import onnxruntime as ort

    providers = ort.get_available_providers()
    if "CUDAExecutionProvider" not in providers:
        raise RuntimeError(
            f"device={device!r} needs ONNX Runtime's CUDAExecutionProvider (the onnxruntime-gpu package); "
            f"this onnxruntime has {providers}"
        )


def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _read_card(path: Path) -> dict:
    """A model folder's ``model_card.json`` as a dict; a file that is not a JSON object (or whose
    ``calibration`` is not one) is a ValueError naming it, not a JSONDecodeError or AttributeError
    from deep inside the constructor."""
    try:
        card = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"model_dir's {path} is not a valid model card ({err})") from None
    if not isinstance(card, dict) or not isinstance(card.get("calibration", {}), dict):
        raise ValueError(f"model_dir's {path} is not a valid model card (a JSON object with a "
                         "'calibration' object was expected)")
    return card


class VAEScorer:
    """Face quality from a VAE trained on good faces (Baert et al., AAAI-21), plus a correction.

    Parameters
    ----------
    model_dir : path, optional
        Folder with ``encoder.onnx``, ``decoder.onnx`` and ``model_card.json``. Default: the shipped
        model (see :meth:`default`).
    method : str, optional
        Scoring rule, a key of :data:`facesel.scoring.vae_methods.METHODS`: ``"paper"`` (the
        paper's log reconstruction probability), ``"recon_error"`` (ablation), or a corrected rule.
        Default: the model card's ``default_method``.
    samples : int
        L, latent samples per crop (default 10).
    use_mean : bool
        Decode z = mu_z once instead of sampling (the L = 1 ablation; needs ``samples=1``).
    seed : int
        Seed of the latent noise. Noise is drawn per crop from (seed, crop bytes), so the same seed
        gives the same score for a crop whatever batch it is in.
    threads : int
        ONNX Runtime intra-op threads (default 1; spinning is off).
    batch_size : int
        Crops per encoder/decoder run (the decoder sees batch_size * L latents).
    device : {"auto", "cpu", "cuda", "cuda:N"}
        Where the VAE (ONNX Runtime's execution provider) and the reductions run. "cpu" never
        touches the GPU; "cuda[:N]" needs a usable GPU N and ONNX Runtime's CUDA execution provider
        (RuntimeError otherwise); "auto" uses GPU 0 when it passed facesel's probe (the CUDA
        execution provider when ONNX Runtime has it), else the CPU.
    """

    def __init__(
        self,
        model_dir: str | Path | None = None,
        *,
        method: str | None = None,
        samples: int = 10,
        use_mean: bool = False,
        seed: int = 0,
        threads: int = 1,
        batch_size: int = 32,
        device: str = "auto",
    ) -> None:
        self.model_dir = Path(model_dir) if model_dir is not None else shipped_model_dir()
        card_path = self.model_dir / "model_card.json"
        self.card = _read_card(card_path) if card_path.is_file() else {}
        if method is None:
            method = self.card.get("default_method", FALLBACK_METHOD)
        if method not in METHODS:
            raise ValueError(f"method must be one of {sorted(METHODS)}, got {method!r}")
        self.samples = _check_int("samples", samples, 1)
        if not isinstance(use_mean, bool):
            raise TypeError(f"use_mean must be a bool, got {type(use_mean).__name__}")
        if use_mean and self.samples != 1:
            raise ValueError(f"use_mean=True decodes z = mu_z once, so samples must be 1, got {samples}")
        self.seed = _check_int("seed", seed, 0)
        self.threads = _check_int("threads", threads, 1)
        if self.threads > MAX_ONNX_THREADS:
            raise ValueError(f"threads must be <= {MAX_ONNX_THREADS}, got {self.threads}")
        self.batch_size = _check_int("batch_size", batch_size, 1)
        kind, index = _backend.parse_device(device)
        if kind == "cuda":
            _backend.require_cuda(index)
            _require_onnxruntime_cuda(device)
        # "cpu" never probes the GPU; "auto" takes device 0 when it passed the probe.
        use_cuda = kind == "cuda" or (kind == "auto" and _backend.cuda_usable(index))
        self.device = device
        self.method = method
        self.use_mean = use_mean
        self.calibration = dict(self.card.get("calibration", {}))
        # One pair of sessions per process and settings, whatever the number of scorers (issue 27).
        self.runner = shared_runner(
            self.model_dir / "encoder.onnx",
            self.model_dir / "decoder.onnx",
            threads=self.threads,
            use_cuda=use_cuda,
            device_id=index,
            reduce_device=device,
        )
        self.name = f"vae-{method}"

    @classmethod
    def default(cls, **settings) -> VAEScorer:
        """The shipped model with its default (corrected) scoring rule; ``settings`` as in the constructor."""
        return cls(None, **settings)

    @classmethod
    def paper(cls, **settings) -> VAEScorer:
        """The shipped model scored the paper's way (log reconstruction probability)."""
        return cls(None, method="paper", **settings)

    def score(self, crops: np.ndarray) -> np.ndarray:
        """(N, 64, 64) uint8 grey (or (N, 64, 64, 3) BGR) crops -> (N,) float64, higher is better."""
        rule = METHODS[self.method]
        return self.run_batches(as_grey_batch(crops), lambda outputs, chunk: rule(outputs, chunk, self.calibration))

    def run_batches(self, crops: np.ndarray, reduce, samples: int | None = None, use_mean: bool | None = None,
                    columns: int | None = None) -> np.ndarray:
        """:meth:`facesel.scoring.vae_runtime.VAERunner.run_batches` with this scorer's sessions, batch size and seed.

        ``samples`` and ``use_mean`` default to the scorer's own; ``crops`` (N, 64, 64) uint8;
        ``reduce(outputs, chunk)`` -> (n,) or (n, columns); returns (N,) or (N, columns) float64.
        """
        samples = self.samples if samples is None else samples
        use_mean = self.use_mean if use_mean is None else use_mean
        return self.runner.run_batches(crops, reduce, self.batch_size, samples, use_mean, self.seed, columns)

    def __repr__(self) -> str:
        return (
            f"VAEScorer(model_dir={str(self.model_dir)!r}, method={self.method!r}, samples={self.samples}, "
            f"use_mean={self.use_mean}, seed={self.seed}, threads={self.threads}, batch_size={self.batch_size}, "
            f"device={self.device!r})"
        )
