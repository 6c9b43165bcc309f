"""Building blocks shared by every super-resolution net (after EDSR-PyTorch ``model/common.py``)."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def conv3x3(in_channels: int, out_channels: int) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, 3, padding=1)


class ResBlock(nn.Module):
    """conv-act-conv with an identity shortcut; ``res_scale`` < 1 stabilises wide nets (EDSR uses 0.1 at 256 ch)."""

    def __init__(self, n_feats: int, res_scale: float = 1.0, act: str = "relu"):
        super().__init__()
        activation = nn.ReLU(inplace=True) if act == "relu" else nn.LeakyReLU(0.05, inplace=True)
        self.body = nn.Sequential(conv3x3(n_feats, n_feats), activation, conv3x3(n_feats, n_feats))
        self.res_scale = res_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x) * self.res_scale


class Upsampler(nn.Sequential):
    """Pixel-shuffle upsampling in x2 stages for powers of two, one stage otherwise (x3, x5, ...)."""

    def __init__(self, n_feats: int, scale: int):
        check_scale(scale)
        stages = [2] * int(math.log2(scale)) if scale & (scale - 1) == 0 else [scale]
        layers: list[nn.Module] = []
        for s in stages:
            layers += [nn.Conv2d(n_feats, n_feats * s * s, 3, padding=1), nn.PixelShuffle(s)]
        super().__init__(*layers)


class PixelShuffleHead(nn.Sequential):
    """One conv straight to ``out_channels * scale²`` then a pixel shuffle: the cheap head of efficient nets."""

    def __init__(self, n_feats: int, scale: int, out_channels: int = 3):
        check_scale(scale)
        super().__init__(nn.Conv2d(n_feats, out_channels * scale * scale, 3, padding=1), nn.PixelShuffle(scale))


def bicubic_upsample(x: torch.Tensor, scale: int) -> torch.Tensor:
    """The skip path: PyTorch bicubic (a = -0.75, half-pixel centres), no clamping so residuals stay exact."""
    return F.interpolate(x, scale_factor=scale, mode="bicubic", align_corners=False)


def check_scale(scale: int) -> None:
    if not isinstance(scale, int) or scale < 2:
        raise ValueError(f"scale must be an integer >= 2, got {scale!r}")
