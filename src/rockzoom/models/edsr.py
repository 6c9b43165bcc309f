"""EDSR (Lim et al. 2017): residual blocks without batch norm, residual scaling, pixel-shuffle upsampler.

EDSR-baseline = 16 blocks, 64 features, res_scale 1 (the seed's ``--num_blocks 16``); EDSR = 32 blocks, 256, 0.1.
"""
from __future__ import annotations

import torch
from torch import nn

from rockzoom.models.blocks import ResBlock, Upsampler, bicubic_upsample, conv3x3
from rockzoom.models.registry import SR_NETS

RGB_MEAN = (0.4488, 0.4371, 0.4040)  # DIV2K mean, as in EDSR-PyTorch


@SR_NETS.register("edsr")
class EDSR(nn.Module):
    def __init__(self, scale: int = 4, n_resblocks: int = 16, n_feats: int = 64, res_scale: float = 1.0,
                 bicubic_skip: bool = False):
        super().__init__()
        self.scale = scale
        self.bicubic_skip = bicubic_skip
        self.register_buffer("rgb_mean", torch.tensor(RGB_MEAN).view(1, 3, 1, 1), persistent=False)
        self.head = conv3x3(3, n_feats)
        self.body = nn.Sequential(*[ResBlock(n_feats, res_scale) for _ in range(n_resblocks)], conv3x3(n_feats, n_feats))
        self.tail = nn.Sequential(Upsampler(n_feats, scale), conv3x3(n_feats, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.head(x - self.rgb_mean)
        out = self.tail(features + self.body(features))
        return out + (bicubic_upsample(x, self.scale) if self.bicubic_skip else self.rgb_mean)
