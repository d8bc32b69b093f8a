"""The paper's VAE (Baert, Leroux, Simoens, AAAI-21) for 64x64 grey face crops, in PyTorch.

Encoder: 5 blocks (4x4 convolution with stride 2, batch normalisation, leaky ReLU) taking
64x64 -> 2x2, then two fully connected layers giving mu_z and log sigma_z.
Decoder: a fully connected layer back to 2x2, 5 blocks (4x4 transposed convolution with stride 2,
batch normalisation, leaky ReLU) back to 64x64, then two 3x3 convolutions giving the per-pixel
mean mu_x (through a sigmoid: pixels live in [0, 1]) and log sigma_x (clipped to
[LOG_SIGMA_MIN, LOG_SIGMA_MAX] so that the likelihood stays finite in fp32).
With ``base_channels=32`` (32, 64, 128, 256, 512) and a latent of 128 it has about 6.4M parameters,
the size the paper gives.
"""

from __future__ import annotations

import torch
from torch import nn

LOG_SIGMA_MIN = -6.0
LOG_SIGMA_MAX = 2.0
_SLOPE = 0.2  # leaky ReLU slope


def _down(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.LeakyReLU(_SLOPE))


def _up(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.LeakyReLU(_SLOPE)
    )


class Encoder(nn.Module):
    """x (B, 1, 64, 64) float32 in [0, 1] -> mu_z, log_sigma_z (B, latent)."""

    def __init__(self, base_channels: int = 32, latent: int = 128) -> None:
        super().__init__()
        chans = [1] + [base_channels * 2**i for i in range(5)]
        self.blocks = nn.Sequential(*[_down(a, b) for a, b in zip(chans[:-1], chans[1:])])
        flat = chans[-1] * 2 * 2
        self.fc_mu = nn.Linear(flat, latent)
        self.fc_log_sigma = nn.Linear(flat, latent)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.blocks(x).flatten(1)
        return self.fc_mu(h), self.fc_log_sigma(h)


class Decoder(nn.Module):
    """z (B, latent) -> mu_x, log_sigma_x (B, 1, 64, 64)."""

    def __init__(self, base_channels: int = 32, latent: int = 128) -> None:
        super().__init__()
        chans = [base_channels * 2**i for i in range(4, -1, -1)]  # 512 .. 32
        self.top = chans[0]
        self.fc = nn.Linear(latent, chans[0] * 2 * 2)
        ups = [_up(a, b) for a, b in zip(chans[:-1], chans[1:])] + [_up(chans[-1], chans[-1])]
        self.blocks = nn.Sequential(*ups)
        self.head_mu = nn.Conv2d(chans[-1], 1, 3, 1, 1)
        self.head_log_sigma = nn.Conv2d(chans[-1], 1, 3, 1, 1)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.blocks(self.fc(z).view(-1, self.top, 2, 2))
        mu = torch.sigmoid(self.head_mu(h))
        log_sigma = torch.clamp(self.head_log_sigma(h), LOG_SIGMA_MIN, LOG_SIGMA_MAX)
        return mu, log_sigma


class VAE(nn.Module):
    """Encoder + decoder; ``forward`` draws one latent sample per input (reparameterisation)."""

    def __init__(self, base_channels: int = 32, latent: int = 128) -> None:
        super().__init__()
        self.base_channels = base_channels
        self.latent = latent
        self.encoder = Encoder(base_channels, latent)
        self.decoder = Decoder(base_channels, latent)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        mu_z, log_sigma_z = self.encoder(x)
        z = mu_z + torch.exp(log_sigma_z) * torch.randn_like(mu_z)
        mu_x, log_sigma_x = self.decoder(z)
        return mu_x, log_sigma_x, mu_z, log_sigma_z


def parameter_count(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
