"""Train -> export -> card: what ``facesel train`` runs."""

from __future__ import annotations

from pathlib import Path

from facesel.training.calibrate import DOSE_STATISTICS, calibrate
from facesel.training.card import write_card, write_loss_plot
from facesel.training.data import load_training_crops
from facesel.training.export import export_onnx
from facesel.training.loop import TrainConfig, train_vae
from facesel.training.model import parameter_count

_SOURCE_ROOT = Path(__file__).resolve().parents[2]

DEFAULT_METHOD = "dose_flat"
"""The scoring rule VAEScorer.default() uses with the trained model (chosen by experiment)."""


def train_and_export(
    data_dir: Path,
    out_dir: Path,
    *,
    method: str = "paper",
    epochs: int = 10,
    seed: int = 0,
    batch_size: int = 144,
    lr: float = 0.001,
    base_channels: int = 32,
    threads: int = 1,
    cache: Path | None = None,
    progress: bool = True,
    resume: bool = False,
) -> dict:
    """Train on ``data_dir``, write ONNX files, ``model_card.json`` and ``loss_curve.png`` to ``out_dir``.

    Each epoch is saved to ``out_dir/checkpoint.pt`` (removed at the end); ``resume=True`` continues
    an interrupted run from it, with the same data and settings (``epochs`` may be raised). Without
    ``resume`` a checkpoint left there is refused rather than overwritten.
    """
    # The settings and the output folder first: aligning a training folder takes minutes.
    config = TrainConfig(
        method=method, epochs=epochs, batch_size=batch_size, lr=lr, base_channels=base_channels, seed=seed, threads=threads
    )
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"the output folder {out_dir} is a file")
    checkpoint = out_dir / "checkpoint.pt"
    if resume and not checkpoint.is_file():
        raise FileNotFoundError(f"nothing to resume: {checkpoint} does not exist (run without --resume)")
    if not resume and checkpoint.exists():
        raise ValueError(f"{checkpoint} holds an interrupted run's epochs: add --resume to continue it, or "
                         "delete the file to start again")
    crops = load_training_crops(data_dir, cache=cache, progress=progress)
    if len(crops) < len(DOSE_STATISTICS) + 2:  # checked before training, not after it
        raise ValueError(
            f"{data_dir} has {len(crops)} face images; calibrating the default scoring rule needs at least "
            f"{len(DOSE_STATISTICS) + 2}"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    model, history = train_vae(crops, config, progress=progress, checkpoint=str(checkpoint), resume=resume)
    export_onnx(model, out_dir)
    write_loss_plot(history, out_dir / "loss_curve.png")
    card = finalise_card(out_dir, crops, config=config, history=history, data_dir=data_dir, n_params=parameter_count(model))
    # Removed last: an interruption during the export or the calibration (minutes on a large
    # folder) is resumed from the finished epochs, not trained again.
    checkpoint.unlink(missing_ok=True)
    return card


def finalise_card(out_dir: Path, crops, *, config, history, data_dir: Path, n_params: int) -> dict:
    """Calibrate the exported model on training crops and write ``model_card.json``."""
    calibration = calibrate(out_dir, crops, seed=config.seed)
    return write_card(
        out_dir / "model_card.json",
        config=config,
        history=history,
        data_dir=Path(data_dir).resolve(),
        n_images=len(crops),
        n_params=n_params,
        source_root=_SOURCE_ROOT,
        extra={"default_method": DEFAULT_METHOD, "calibration": calibration},
    )
