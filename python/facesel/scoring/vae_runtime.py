"""Running the exported VAE: ONNX Runtime sessions, seeded latent sampling, batching.

Kept apart from the scoring rules (:mod:`facesel.scoring.vae_methods`) so that benchmarks can time
encoder, decoder, reduction and correction separately.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facesel import _backend
from facesel.core import gaussian_log_rp

PIXELS = 64 * 64


@dataclass
class VAEOutputs:
    """What the VAE says about a batch of crops.

    Attributes
    ----------
    x : (N, 4096) float32
        The crops, flattened, pixels / 255.
    mu_z, log_sigma_z : (N, latent) float32
        Encoder outputs.
    mu_x, log_sigma_x : (N, L, 4096) float32
        Decoder outputs for the L latent samples of each crop.
    device, threads : str, int
        Where the reductions over these outputs run (the scorer's settings, passed on to
        :func:`facesel.gaussian_log_rp` by :meth:`log_rp`).
    """

    x: np.ndarray
    mu_z: np.ndarray
    log_sigma_z: np.ndarray
    mu_x: np.ndarray
    log_sigma_x: np.ndarray
    device: str = "auto"
    threads: int = 1

    def log_rp(self) -> np.ndarray:
        """(N,) float64 log reconstruction probability, on the scorer's device and threads."""
        return gaussian_log_rp(self.x, self.mu_x, self.log_sigma_x, device=self.device, threads=min(self.threads, 256))


def make_session(path: Path, threads: int, use_cuda: bool, device_id: int = 0):
    """An ONNX Runtime session with ``threads`` intra-op threads and no busy-waiting; with
    ``use_cuda``, on the CUDA execution provider of GPU ``device_id`` when ONNX Runtime has it."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    # Spinning threads steal a busy machine's cores from the rest of the pipeline.
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    providers = ["CPUExecutionProvider"]
    if use_cuda and "CUDAExecutionProvider" in ort.get_available_providers():
        providers = [("CUDAExecutionProvider", {"device_id": device_id}), "CPUExecutionProvider"]
    return ort.InferenceSession(str(path), sess_options=opts, providers=providers)


def latent_noise(crop: np.ndarray, seed: int, samples: int, latent: int) -> np.ndarray:
    """(samples, latent) float32 standard normal noise, a function of (seed, crop bytes) only.

    Seeding per crop makes a crop's score independent of the batch it is scored in.
    """
    rng = np.random.default_rng([seed, zlib.crc32(crop.tobytes())])
    return rng.standard_normal((samples, latent), dtype=np.float32)


class VAERunner:
    """Encoder once per crop, decoder on L latent samples per crop.

    Parameters
    ----------
    encoder_path, decoder_path : Path
        ONNX files: x (B,1,64,64) -> mu_z, log_sigma_z; z (B,latent) -> mu_x, log_sigma_x (B,1,64,64).
    threads : int
        ONNX Runtime intra-op threads.
    use_cuda : bool
        Use the CUDA execution provider when ONNX Runtime has it and a device is usable.
    device_id : int
        The GPU for ONNX Runtime's CUDA execution provider.
    reduce_device : str
        Where the reductions over the outputs run (see :class:`VAEOutputs`).
    """

    def __init__(
        self,
        encoder_path: Path,
        decoder_path: Path,
        threads: int = 1,
        use_cuda: bool | None = None,
        device_id: int = 0,
        reduce_device: str = "auto",
    ) -> None:
        for name, p in (("encoder_path", encoder_path), ("decoder_path", decoder_path)):
            if not Path(p).is_file():
                raise FileNotFoundError(f"{name} not found: {p}")
        if use_cuda is None:
            use_cuda = _backend.HAS_CUDA
        self.threads = threads
        self.reduce_device = reduce_device
        self.encoder = make_session(Path(encoder_path), threads, use_cuda, device_id)
        self.decoder = make_session(Path(decoder_path), threads, use_cuda, device_id)
        self.latent = int(self.encoder.get_outputs()[0].shape[1])

    def encode(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(N,64,64) uint8 -> x (N,4096) f32, mu_z, log_sigma_z (N,latent) f32."""
        x = crops.astype(np.float32) / np.float32(255.0)
        mu_z, log_sigma_z = self.encoder.run(None, {"x": x[:, None]})
        return x.reshape(len(crops), PIXELS), mu_z, log_sigma_z

    def sample_latents(
        self, crops: np.ndarray, mu_z: np.ndarray, log_sigma_z: np.ndarray, samples: int, use_mean: bool, seed: int
    ) -> np.ndarray:
        """(N, L, latent) float32: z = mu_z when ``use_mean`` (L = 1), else mu_z + sigma_z * eps."""
        if use_mean:
            return mu_z[:, None, :].copy()
        eps = np.stack([latent_noise(c, seed, samples, self.latent) for c in crops])
        return mu_z[:, None, :] + np.exp(log_sigma_z)[:, None, :] * eps

    def decode(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, L, latent) -> mu_x, log_sigma_x (N, L, 4096) float32."""
        n, l_samples, latent = z.shape
        mu_x, log_sigma_x = self.decoder.run(None, {"z": np.ascontiguousarray(z.reshape(n * l_samples, latent))})
        return mu_x.reshape(n, l_samples, PIXELS), log_sigma_x.reshape(n, l_samples, PIXELS)

    def run(self, crops: np.ndarray, samples: int, use_mean: bool, seed: int) -> VAEOutputs:
        """All VAE outputs for (N, 64, 64) uint8 crops in one pass (:meth:`run_batches` batches)."""
        x, mu_z, log_sigma_z = self.encode(crops)
        z = self.sample_latents(crops, mu_z, log_sigma_z, samples, use_mean, seed)
        mu_x, log_sigma_x = self.decode(z)
        return VAEOutputs(x, mu_z, log_sigma_z, mu_x, log_sigma_x, self.reduce_device, self.threads)

    def run_batches(
        self,
        crops: np.ndarray,
        reduce: Callable[[VAEOutputs, np.ndarray], np.ndarray],
        batch_size: int,
        samples: int,
        use_mean: bool,
        seed: int,
        columns: int | None = None,
    ) -> np.ndarray:
        """Run the VAE over ``crops`` ``batch_size`` at a time and keep only what ``reduce`` makes
        of each batch (the decoder outputs of a batch are L * 4096 floats a crop: never all kept).

        Parameters
        ----------
        crops : (N, 64, 64) uint8
        reduce : callable
            ``reduce(outputs, chunk)`` with the :class:`VAEOutputs` of ``chunk`` ((n, 64, 64)
            uint8, consecutive crops) returns (n,) values, or (n, columns) when ``columns`` is given.
        batch_size : int
            Crops per :meth:`run` (the decoder sees batch_size * samples latents).
        samples, use_mean, seed
            As in :meth:`run`. The latent noise is drawn per crop, so the batch size changes no value.
        columns : int, optional
            Values per crop; None for one.

        Returns
        -------
        (N,) or (N, columns) float64
        """
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
        if columns is not None and (isinstance(columns, bool) or not isinstance(columns, int) or columns < 1):
            raise ValueError(f"columns must be None or an integer >= 1, got {columns!r}")
        out = np.empty((len(crops),) if columns is None else (len(crops), columns), np.float64)
        for start in range(0, len(crops), batch_size):
            chunk = crops[start : start + batch_size]
            out[start : start + len(chunk)] = reduce(self.run(chunk, samples, use_mean, seed), chunk)
        return out


_runners: dict[tuple, VAERunner] = {}
_runners_lock = threading.Lock()


def shared_runner(encoder_path: Path, decoder_path: Path, threads: int = 1, use_cuda: bool | None = None,
                  device_id: int = 0, reduce_device: str = "auto") -> VAERunner:
    """The process's one :class:`VAERunner` for these files and settings, made at the first call.

    Every scorer of a process (PickScorer's two passes, the finaliser's face vote, one per camera
    of ``facesel serve``) runs the same two ONNX Runtime sessions: a session may be run from
    several threads at once, and each copy held about 25 MB of weights plus its arena (issue 27:
    cameras share one VAE session). The key holds each file's size and modification time, so a
    model rewritten in place (training) is loaded anew.
    """
    if use_cuda is None:
        use_cuda = _backend.HAS_CUDA
    key = (*(_file_key(Path(p)) for p in (encoder_path, decoder_path)), int(threads), bool(use_cuda), int(device_id),
           str(reduce_device))
    with _runners_lock:
        runner = _runners.get(key)
        if runner is None:
            runner = _runners[key] = VAERunner(encoder_path, decoder_path, threads, use_cuda, device_id, reduce_device)
        return runner


def _file_key(path: Path) -> tuple:
    try:
        stat = path.stat()
    except OSError:
        return (str(path),)  # VAERunner raises the missing file's error, naming it
    return (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
