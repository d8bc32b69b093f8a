"""Candidate: fine-tune the trained VAE so that its own likelihood ranks degraded faces lower.

Loss = ELBO on clean faces + lambda * hinge(margin - (NLL(degraded) - NLL(clean)) / pixels), with
self-made degradations of the training faces (no labels, no recognition model). Only four kinds are
used in training (gaussian_blur, noise, darken, low_contrast); motion_blur, downscale, occlusion and
jpeg stay unseen, to measure generalisation. Writes an exported model folder.

    python experiments/finetune_degradation_margin.py --checkpoint CKPT --crops CACHE.npz --out DIR
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from facesel.eval.degrade import degrade
from facesel.training.data import to_tensor_batch
from facesel.training.export import export_onnx
from facesel.training.loop import gaussian_nll, kl_standard_normal
from facesel.training.model import VAE

TRAIN_KINDS = ("gaussian_blur", "noise", "darken", "low_contrast")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--crops", required=True, help=".npz with 'grey' training crops (lfw/train)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--margin", type=float, default=0.2, help="nats per pixel")
    ap.add_argument("--weight", type=float, default=4096.0)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    rng = np.random.default_rng(args.seed)
    state = torch.load(args.checkpoint, map_location="cpu", weights_only=False)
    config = state["config"]
    model = VAE(config.base_channels, config.latent)
    model.load_state_dict(state["state_dict"])
    crops = np.load(args.crops)["grey"]
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    model.train()
    batch = 144
    for epoch in range(args.epochs):
        order = rng.permutation(len(crops))
        for b in range(0, len(crops), batch):
            clean = crops[order[b : b + batch]]
            kinds = rng.integers(0, len(TRAIN_KINDS), len(clean))
            sev = rng.uniform(0.15, 1.0, len(clean))
            bad = np.stack([degrade(c, TRAIN_KINDS[k], float(s), rng) for c, k, s in zip(clean, kinds, sev)])
            x = to_tensor_batch(np.concatenate([clean, bad]))
            mu_x, ls_x, mu_z, ls_z = model(x)
            nll = gaussian_nll(x, mu_x, ls_x)
            n = len(clean)
            elbo = (nll[:n] + kl_standard_normal(mu_z[:n], ls_z[:n])).mean()
            gap = (nll[n:] - nll[:n]) / x[0].numel()
            hinge = torch.relu(args.margin - gap).mean()
            loss = elbo + args.weight * hinge
            opt.zero_grad()
            loss.backward()
            opt.step()
            print(f"epoch {epoch} batch {b // batch}: elbo {elbo.item():.0f} hinge {hinge.item():.3f}", flush=True)
    export_onnx(model.eval(), Path(args.out))


if __name__ == "__main__":
    main()
