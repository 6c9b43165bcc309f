"""A small spectral-normalised patch discriminator for GAN super-resolution (one logit per receptive field)."""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


class PatchDiscriminator(nn.Module):
    def __init__(self, n_feats: int = 32, n_down: int = 3, in_channels: int = 3):
        super().__init__()
        layers: list[nn.Module] = [spectral_norm(nn.Conv2d(in_channels, n_feats, 3, padding=1)),
                                   nn.LeakyReLU(0.2, inplace=True)]
        ch = n_feats
        for i in range(n_down):
            out = min(n_feats * 2 ** (i + 1), n_feats * 8)
            layers += [spectral_norm(nn.Conv2d(ch, out, 4, stride=2, padding=1)), nn.LeakyReLU(0.2, inplace=True)]
            ch = out
        layers.append(spectral_norm(nn.Conv2d(ch, 1, 3, padding=1)))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x * 2.0 - 1.0)
