"""The training loop: Gaussian negative log-likelihood + KL (the paper's ELBO), Adam, seeded."""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from facesel.training.data import to_tensor_batch
from facesel.training.model import VAE

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)

MAX_TRAIN_THREADS = 256
"""Most torch CPU threads (the C++ core's and ONNX Runtime's cap too)."""

TRAIN_METHODS = ("paper",)
"""Training objectives this loop knows. 'paper': the plain ELBO on clean faces."""


@dataclass
class TrainConfig:
    """Hyper-parameters. Defaults follow the paper (Adam, batch 144, 10 epochs) except the learning
    rate: the paper's 0.005 diverged here with a learned per-pixel sigma, so 0.001."""

    method: str = "paper"
    epochs: int = 10
    batch_size: int = 144
    lr: float = 0.001  # the paper's 0.005 diverged at step 3 (loss 2e8)
    base_channels: int = 32
    latent: int = 128
    seed: int = 0
    flip: bool = True  # horizontal flips: a mirrored face is as good a face
    threads: int = 2

    def __post_init__(self) -> None:
        """Refuses a setting training cannot use, naming it, before any face is loaded (a batch
        size of 0 was a ZeroDivisionError after aligning the whole folder)."""
        if self.method not in TRAIN_METHODS:
            raise ValueError(f"method must be one of {TRAIN_METHODS}, got {self.method!r}")
        for name in ("epochs", "batch_size", "base_channels", "latent", "threads"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed < 2**63:
            # numpy refuses a negative seed, torch one beyond int64: only after the faces were aligned
            raise ValueError(f"seed must be an integer in [0, 2**63), got {self.seed!r}")
        if self.threads > MAX_TRAIN_THREADS:  # torch would start them all at its first parallel step
            raise ValueError(f"threads must be <= {MAX_TRAIN_THREADS}, got {self.threads!r}")
        if isinstance(self.lr, bool) or not isinstance(self.lr, (int, float)) or not 0 < self.lr < math.inf:
            raise ValueError(f"lr must be a finite number > 0, got {self.lr!r}")


@dataclass
class History:
    """Per-epoch means of the loss terms (nats per image) and the wall time."""

    loss: list = field(default_factory=list)
    nll: list = field(default_factory=list)
    kl: list = field(default_factory=list)
    seconds: float = 0.0


def gaussian_nll(x: torch.Tensor, mu: torch.Tensor, log_sigma: torch.Tensor) -> torch.Tensor:
    """(B,) negative log-likelihood of x under N(mu, exp(log_sigma)^2), summed over pixels."""
    nll = _HALF_LOG_2PI + log_sigma + 0.5 * ((x - mu) * torch.exp(-log_sigma)) ** 2
    return nll.flatten(1).sum(1)


def kl_standard_normal(mu_z: torch.Tensor, log_sigma_z: torch.Tensor) -> torch.Tensor:
    """(B,) KL( N(mu_z, sigma_z^2) || N(0, I) )."""
    return 0.5 * (mu_z**2 + torch.exp(2 * log_sigma_z) - 1.0 - 2 * log_sigma_z).sum(1)


def _checkpoint_state(model, opt, rng, history: History, config: TrainConfig, n_crops: int) -> dict:
    # Everything the next epoch depends on, so that a resumed run equals an uninterrupted one bit
    # for bit; plain types and tensors only (read back with torch.load(weights_only=True)).
    return {"state_dict": model.state_dict(), "optimizer": opt.state_dict(), "numpy_rng": rng.bit_generator.state,
            "torch_rng": torch.get_rng_state(), "epoch": len(history.loss), "crops": n_crops,
            "settings": _resume_settings(config),
            "history": {"loss": history.loss, "nll": history.nll, "kl": history.kl, "seconds": history.seconds}}


def _resume_settings(config: TrainConfig) -> dict:
    """The settings a resumed run must share with the interrupted one (epochs may grow; threads
    change no result at one thread per op order)."""
    return {k: getattr(config, k) for k in ("method", "batch_size", "lr", "base_channels", "latent", "seed", "flip")}


def _save_checkpoint(state: dict, path: str) -> None:
    # Written beside, then renamed: an interruption while saving leaves the previous epoch's file.
    tmp = f"{path}.tmp"
    try:
        torch.save(state, tmp)
        os.replace(tmp, path)
    except BaseException:  # Ctrl-C while saving: the previous epoch's file stays, no half file beside it
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _load_checkpoint(path: str, config: TrainConfig, n_crops: int) -> dict:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise FileNotFoundError(f"nothing to resume: {path} does not exist") from None
    except Exception as err:  # a damaged or foreign file: torch raises many kinds
        raise ValueError(f"cannot resume from {path}: not a readable facesel training checkpoint ({err})") from None
    if not isinstance(state, dict) or "settings" not in state or "optimizer" not in state:
        raise ValueError(f"cannot resume from {path}: written by an older facesel that saved the weights only")
    changed = {k: (v, state["settings"].get(k)) for k, v in _resume_settings(config).items() if state["settings"].get(k) != v}
    if changed:
        said = ", ".join(f"{k} {old!r} then, {new!r} now" for k, (new, old) in changed.items())
        raise ValueError(f"cannot resume from {path}: the run was started with other settings ({said})")
    if state["crops"] != n_crops:
        raise ValueError(f"cannot resume from {path}: the run was started on {state['crops']} face images, "
                         f"this one has {n_crops} (same --data and --cache needed)")
    return state


def train_vae(
    crops: np.ndarray, config: TrainConfig, progress: bool = True, checkpoint: str | None = None,
    resume: bool = False,
) -> tuple[VAE, History]:
    """Train a VAE on (N, 64, 64) uint8 crops; returns the model (in eval mode) and its history.

    ``checkpoint``: optional file where the model, the optimiser and the random states are saved
    after every epoch (atomically). ``resume``: continue from that file (same crops and settings;
    ``config.epochs`` may be larger): the result equals an uninterrupted run's.
    """
    if config.method not in TRAIN_METHODS:
        raise ValueError(f"method must be one of {TRAIN_METHODS}, got {config.method!r}")
    if crops.ndim != 3 or crops.shape[1:] != (64, 64) or crops.dtype != np.uint8:
        raise ValueError(f"crops must be (N, 64, 64) uint8, got {crops.shape} {crops.dtype}")
    if config.epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {config.epochs}")
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    rng = np.random.default_rng(config.seed)
    model = VAE(config.base_channels, config.latent)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    history = History()
    if resume:
        if checkpoint is None:
            raise ValueError("resume needs the checkpoint file to resume from")
        state = _load_checkpoint(checkpoint, config, len(crops))
        model.load_state_dict(state["state_dict"])
        opt.load_state_dict(state["optimizer"])
        rng.bit_generator.state = state["numpy_rng"]
        torch.set_rng_state(state["torch_rng"])
        history = History(**state["history"])
    done = len(history.loss)
    steps = math.ceil(len(crops) / config.batch_size)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=config.epochs * steps, initial=min(done, config.epochs) * steps,
                   desc=f"training ({config.method})", unit="batch")
    start = time.perf_counter() - history.seconds
    model.train()
    for _ in range(done, config.epochs):
        order = rng.permutation(len(crops))
        sums = np.zeros(3)
        for b in range(steps):
            idx = order[b * config.batch_size : (b + 1) * config.batch_size]
            batch = crops[idx]
            if config.flip:
                flip = rng.random(len(batch)) < 0.5
                batch = np.where(flip[:, None, None], batch[:, :, ::-1], batch)
            x = to_tensor_batch(np.ascontiguousarray(batch))
            mu_x, log_sigma_x, mu_z, log_sigma_z = model(x)
            nll = gaussian_nll(x, mu_x, log_sigma_x)
            kl = kl_standard_normal(mu_z, log_sigma_z)
            loss = (nll + kl).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sums += np.array([loss.item(), nll.mean().item(), kl.mean().item()]) * len(idx)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{loss.item():.0f}")
        means = sums / len(crops)
        history.loss.append(float(means[0]))
        history.nll.append(float(means[1]))
        history.kl.append(float(means[2]))
        if checkpoint is not None:
            history.seconds = time.perf_counter() - start
            _save_checkpoint(_checkpoint_state(model, opt, rng, history, config, len(crops)), checkpoint)
    if bar is not None:
        bar.close()
    history.seconds = time.perf_counter() - start
    model.eval()
    return model, history
