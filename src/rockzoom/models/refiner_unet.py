"""A small conditional UNet for the diffusion refiner (``rockzoom.refiner``).

Input: the noisy residual ``x_t`` (3 channels) and the upscaled image it refines (3 channels, the condition), both
(B, 3, H, W), plus the diffusion time ``t`` in [0, 1] (B,). Output: 3 channels (v or epsilon, as the refiner was
trained). H and W must be multiples of ``size_multiple`` (2 ** number of downsamplings).

Layout (DDPM/ADM style, kept small for a few thousand tiles): optionally a lossless pixel-unshuffle (space to depth,
``pixel_unshuffle`` = 2 quarters the cost of every level), a stem conv, ``len(channel_mults)`` levels of
``blocks_per_level`` ResBlocks (GroupNorm, SiLU, 3x3 convs, the time embedding as a per-channel scale and shift),
a stride-2 conv between levels, multi-head self-attention at the lowest resolution (encoder, middle, decoder),
and a mirrored decoder with concatenated skips and nearest + conv upsampling. The output conv starts at zero, so
an untrained refiner predicts a zero residual.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from rockzoom.models.registry import REFINER_NETS


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal embedding of t in [0, 1] (scaled to 0..1000 like discrete DDPM steps) -> (B, dim)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    args = (t.float() * 1000.0)[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=1)


def _groups(channels: int) -> int:
    for g in (8, 4, 2, 1):
        if channels % g == 0:
            return g
    return 1


class ResBlock(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, emb_dim: int, dropout: float = 0.0):
        super().__init__()
        self.norm1 = nn.GroupNorm(_groups(in_ch), in_ch)
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.emb = nn.Linear(emb_dim, 2 * out_ch)
        self.norm2 = nn.GroupNorm(_groups(out_ch), out_ch)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1)
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)
        self.skip = nn.Conv2d(in_ch, out_ch, 1) if in_ch != out_ch else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        scale, shift = self.emb(F.silu(emb))[:, :, None, None].chunk(2, dim=1)
        h = self.norm2(h) * (1 + scale) + shift
        h = self.conv2(self.dropout(F.silu(h)))
        return self.skip(x) + h


class SelfAttention(nn.Module):
    """Multi-head self-attention over all positions of a feature map (used only at the lowest resolution)."""

    def __init__(self, channels: int, heads: int):
        super().__init__()
        if channels % heads:
            raise ValueError(f"attention: {channels} channels do not split into {heads} heads")
        self.heads = heads
        self.norm = nn.GroupNorm(_groups(channels), channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.proj = nn.Conv2d(channels, channels, 1)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, 3, self.heads, c // self.heads, h * w).unbind(1)
        out = F.scaled_dot_product_attention(q.transpose(-1, -2), k.transpose(-1, -2), v.transpose(-1, -2))
        return x + self.proj(out.transpose(-1, -2).reshape(b, c, h, w))


@REFINER_NETS.register("unet")
class RefinerUNet(nn.Module):
    def __init__(self, base_channels: int = 32, channel_mults: tuple[int, ...] | list[int] = (1, 2, 2),
                 blocks_per_level: int = 1, attention_heads: int = 4, dropout: float = 0.0,
                 pixel_unshuffle: int = 1, image_channels: int = 3):
        super().__init__()
        channel_mults = tuple(channel_mults)
        if not channel_mults or blocks_per_level < 1 or base_channels < 1:
            raise ValueError("refiner UNet needs channel_mults, blocks_per_level >= 1 and base_channels >= 1")
        if pixel_unshuffle < 1:
            raise ValueError(f"pixel_unshuffle must be >= 1, got {pixel_unshuffle}")
        self.unshuffle = pixel_unshuffle
        self.size_multiple = pixel_unshuffle * 2 ** (len(channel_mults) - 1)
        emb_dim = 4 * base_channels
        self.base_channels = base_channels
        self.time_mlp = nn.Sequential(nn.Linear(base_channels, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        self.stem = nn.Conv2d(2 * image_channels * pixel_unshuffle ** 2, base_channels, 3, padding=1)
        chans = [base_channels * m for m in channel_mults]
        lowest = len(chans) - 1

        self.down_blocks = nn.ModuleList()
        self.down_attn = nn.ModuleList()
        self.downsamples = nn.ModuleList()
        skips, ch = [], base_channels
        for level, out_ch in enumerate(chans):
            blocks = nn.ModuleList()
            for _ in range(blocks_per_level):
                blocks.append(ResBlock(ch, out_ch, emb_dim, dropout))
                ch = out_ch
                skips.append(ch)
            self.down_blocks.append(blocks)
            self.down_attn.append(SelfAttention(ch, attention_heads) if level == lowest else nn.Identity())
            self.downsamples.append(nn.Conv2d(ch, ch, 3, stride=2, padding=1) if level < lowest else nn.Identity())

        self.mid1 = ResBlock(ch, ch, emb_dim, dropout)
        self.mid_attn = SelfAttention(ch, attention_heads)
        self.mid2 = ResBlock(ch, ch, emb_dim, dropout)

        self.up_blocks = nn.ModuleList()
        self.up_attn = nn.ModuleList()
        self.upsamples = nn.ModuleList()
        for level in reversed(range(len(chans))):
            blocks = nn.ModuleList()
            for _ in range(blocks_per_level):
                blocks.append(ResBlock(ch + skips.pop(), chans[level], emb_dim, dropout))
                ch = chans[level]
            self.up_blocks.append(blocks)
            self.up_attn.append(SelfAttention(ch, attention_heads) if level == lowest else nn.Identity())
            self.upsamples.append(nn.Conv2d(ch, ch, 3, padding=1) if level > 0 else nn.Identity())

        self.out_norm = nn.GroupNorm(_groups(ch), ch)
        self.out_conv = nn.Conv2d(ch, image_channels * pixel_unshuffle ** 2, 3, padding=1)
        nn.init.zeros_(self.out_conv.weight)
        nn.init.zeros_(self.out_conv.bias)

    def forward(self, x_t: torch.Tensor, cond: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        h, w = x_t.shape[-2:]
        if h % self.size_multiple or w % self.size_multiple:
            raise ValueError(f"refiner UNet: input {h}x{w} is not a multiple of {self.size_multiple}")
        emb = self.time_mlp(timestep_embedding(t, self.base_channels))
        x = torch.cat([x_t, cond * 2.0 - 1.0], dim=1)
        if self.unshuffle > 1:
            x = F.pixel_unshuffle(x, self.unshuffle)
        x = self.stem(x)
        skips = []
        for blocks, attn, down in zip(self.down_blocks, self.down_attn, self.downsamples):
            for block in blocks:
                x = block(x, emb)
                skips.append(x)
            x = down(attn(x))
        x = self.mid2(self.mid_attn(self.mid1(x, emb)), emb)
        for blocks, attn, up in zip(self.up_blocks, self.up_attn, self.upsamples):
            for block in blocks:
                x = block(torch.cat([x, skips.pop()], dim=1), emb)
            x = attn(x)
            if not isinstance(up, nn.Identity):
                x = up(F.interpolate(x, scale_factor=2, mode="nearest"))
        out = self.out_conv(F.silu(self.out_norm(x)))
        return F.pixel_shuffle(out, self.unshuffle) if self.unshuffle > 1 else out

