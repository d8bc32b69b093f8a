"""ONNX export of the encoder (x -> mu_z, log_sigma_z) and decoder (z -> mu_x, log_sigma_x).

Both graphs have a dynamic batch axis. The number of latent samples L never enters a graph: the
scorer draws z outside (seeded NumPy) and the C++ core does the log-sum-exp over L, so no log L
can be frozen at export time.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch

from facesel.training.model import VAE

OPSET = 17
ENCODER_FILE = "encoder.onnx"
DECODER_FILE = "decoder.onnx"


def export_onnx(model: VAE, out_dir: Path) -> tuple[Path, Path]:
    """Write ``encoder.onnx`` and ``decoder.onnx`` into ``out_dir``; returns their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model = model.eval()
    enc_path, dec_path = out_dir / ENCODER_FILE, out_dir / DECODER_FILE
    # The TorchScript exporter handles this plain conv net and a dynamic batch axis without the
    # optional onnxscript package the newer exporter needs; silence its (and its internals')
    # deprecation notices for the duration of the export only.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            model.encoder,
            (torch.zeros(2, 1, 64, 64),),
            str(enc_path),
            input_names=["x"],
            output_names=["mu_z", "log_sigma_z"],
            dynamic_axes={"x": {0: "batch"}, "mu_z": {0: "batch"}, "log_sigma_z": {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,
        )
        torch.onnx.export(
            model.decoder,
            (torch.zeros(2, model.latent),),
            str(dec_path),
            input_names=["z"],
            output_names=["mu_x", "log_sigma_x"],
            dynamic_axes={"z": {0: "batch"}, "mu_x": {0: "batch"}, "log_sigma_x": {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,
        )
    return enc_path, dec_path


def export_checkpoint(checkpoint: Path, out_dir: Path) -> tuple[Path, Path]:
    """Export a checkpoint saved by :func:`facesel.training.loop.train_vae` (for runs cut short)."""
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    config = state["config"]
    model = VAE(config.base_channels, config.latent)
    model.load_state_dict(state["state_dict"])
    return export_onnx(model.eval(), out_dir)
