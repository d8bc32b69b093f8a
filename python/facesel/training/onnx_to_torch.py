"""Load exported ONNX weights back into the torch VAE, for like-for-like speed comparisons.

The exporter folds each encoder batch norm into its convolution (weights and a bias), so the
encoder's batch norms are set to the identity (running mean 0, running variance 1 - eps, weight 1)
with the folded bias as their shift; the decoder keeps its batch norms under their own names.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from facesel.training.model import VAE


def _tensor(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.array(array, dtype=np.float32, copy=True))  # onnx arrays are read-only


def _initializers(path: Path) -> tuple[dict, list]:
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    inits = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    return inits, list(graph.node)


def vae_from_onnx(model_dir: Path) -> VAE:
    """A torch VAE (eval mode) computing what ``encoder.onnx`` and ``decoder.onnx`` compute."""
    model_dir = Path(model_dir)
    enc, enc_nodes = _initializers(model_dir / "encoder.onnx")
    dec, _ = _initializers(model_dir / "decoder.onnx")
    latent, flat = enc["fc_mu.weight"].shape
    base = int(dec["fc.weight"].shape[0] // 4 // 16)  # fc maps to (16 * base) x 2 x 2
    card = model_dir / "model_card.json"
    if card.is_file():
        base = int(json.loads(card.read_text()).get("config", {}).get("base_channels", base))
    model = VAE(base, int(latent)).eval()
    state = model.state_dict()
    convs = [n for n in enc_nodes if n.op_type == "Conv"]
    if len(convs) != len(model.encoder.blocks):
        raise ValueError(f"expected {len(model.encoder.blocks)} encoder convolutions, found {len(convs)}")
    eps = model.encoder.blocks[0][1].eps
    for i, node in enumerate(convs):
        weight, bias = enc[node.input[1]], enc[node.input[2]]
        state[f"encoder.blocks.{i}.0.weight"] = _tensor(weight)
        state[f"encoder.blocks.{i}.1.weight"] = torch.ones(len(bias))
        state[f"encoder.blocks.{i}.1.bias"] = _tensor(bias)
        state[f"encoder.blocks.{i}.1.running_mean"] = torch.zeros(len(bias))
        state[f"encoder.blocks.{i}.1.running_var"] = torch.full((len(bias),), 1.0 - eps)
    for name in ("fc_mu.weight", "fc_mu.bias", "fc_log_sigma.weight", "fc_log_sigma.bias"):
        state[f"encoder.{name}"] = _tensor(enc[name])
    for name in list(state):
        if name.startswith("decoder.") and name[len("decoder.") :] in dec:
            state[name] = _tensor(dec[name[len("decoder.") :]])
    model.load_state_dict(state)
    return model
