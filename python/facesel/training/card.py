"""The model card (JSON) and loss-curve plot written next to the exported weights."""

from __future__ import annotations

import json
import subprocess
from dataclasses import asdict
from pathlib import Path

from facesel.training.loop import History, TrainConfig


def git_commit(repo: Path) -> str | None:
    """HEAD commit of the checkout holding ``repo``, or None outside git."""
    try:
        out = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def write_loss_plot(history: History, path: Path) -> None:
    """Loss, NLL and KL per epoch as a PNG (matplotlib, headless backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2))
    epochs = range(1, len(history.loss) + 1)
    ax.plot(epochs, history.loss, label="loss (NLL + KL)")
    ax.plot(epochs, history.nll, label="Gaussian NLL")
    ax.plot(epochs, history.kl, label="KL")
    ax.set_xlabel("epoch")
    ax.set_ylabel("nats per image")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_card(
    path: Path,
    *,
    config: TrainConfig,
    history: History,
    data_dir: Path,
    n_images: int,
    n_params: int,
    source_root: Path,
    extra: dict | None = None,
) -> dict:
    """Write the JSON model card; returns it as a dict."""
    card = {
        "model": "facesel VAE face-quality model",
        "method": config.method,
        "data": {"folder": str(data_dir), "images": int(n_images)},
        "crop_function": "facesel.align.align_face via facesel.faceset.load_face_folder (YuNet, 64x64 grey)",
        "input": "(B, 1, 64, 64) float32, grey pixels / 255",
        "config": asdict(config),
        "epochs": config.epochs,
        "losses": {"loss": history.loss, "nll": history.nll, "kl": history.kl},
        "train_seconds": round(history.seconds, 1),
        "parameters": int(n_params),
        "git_commit": git_commit(source_root),
        "files": {"encoder": "encoder.onnx", "decoder": "decoder.onnx"},
    }
    if extra:
        card.update(extra)
    Path(path).write_text(json.dumps(card, indent=2))
    return card
