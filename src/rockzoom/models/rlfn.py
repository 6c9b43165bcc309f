"""A small residual net of the RLFN/SPAN family: the default CPU super-resolution net.

Shallow feature conv -> ``n_blocks`` residual blocks (LeakyReLU; optionally SPAN's parameter-free attention,
``(out + x) * (sigmoid(out) - 0.5)``) -> fusion conv with a long skip -> one conv + pixel shuffle to RGB, added to the
bicubic upsample of the input, so the net only learns the missing detail. 6 blocks x 32 features = 135 k parameters.
"""
from __future__ import annotations

import torch
from torch import nn

from rockzoom.models.blocks import PixelShuffleHead, ResBlock, bicubic_upsample, conv3x3
from rockzoom.models.registry import SR_NETS


class AttentionBlock(nn.Module):
    """SPAN block: two convs whose output gates itself through a symmetric sigmoid (no extra parameters)."""

    def __init__(self, n_feats: int):
        super().__init__()
        self.body = nn.Sequential(conv3x3(n_feats, n_feats), nn.LeakyReLU(0.05, inplace=True), conv3x3(n_feats, n_feats))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)
        return (out + x) * (torch.sigmoid(out) - 0.5) * 2.0


@SR_NETS.register("rlfn")
class RLFN(nn.Module):
    def __init__(self, scale: int = 4, n_blocks: int = 6, n_feats: int = 32, attention: bool = False):
        super().__init__()
        self.scale = scale
        self.head = conv3x3(3, n_feats)
        block = (lambda: AttentionBlock(n_feats)) if attention else (lambda: ResBlock(n_feats, act="lrelu"))
        self.body = nn.Sequential(*[block() for _ in range(n_blocks)])
        self.fuse = conv3x3(n_feats, n_feats)
        self.tail = PixelShuffleHead(n_feats, scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.head(x)
        return self.tail(features + self.fuse(self.body(features))) + bicubic_upsample(x, self.scale)
