"""Exact LR consistency: back-project an upscaled image so that its x k box average equals its input.

The tile tree's coarser zoom is the box average of the finer one, so an upscale of a tile should average back to
it. With ``r = lr - box_k(sr)``, the output first moves by ``up(r)`` (bilinear: a smooth correction that leaves the
detail within each block as it was); then every k x k block is projected onto the pixel values in [0, 1] whose mean
is its input pixel: ``clip(block + t)`` with the one shift ``t`` per block that gives that mean (the Euclidean
projection onto that set; ``t`` found by bisection, exact to ~1e-12). Without clipping this is a plain shift of the
block by its remaining error. Every output pixel depends on the upscaler's output and its input within 1 LR pixel of
its own block, so tiling stays seam-free when the overlap covers the net's receptive field + 1.
"""
from __future__ import annotations

import numpy as np

from rockzoom.superres.upscale import Upscaler

BISECTION_STEPS = 42  # the shift interval (width <= 2) halves each step: 2 / 2^42 < 1e-12


def _box(x, scale: int):
    import torch.nn.functional as F

    return F.avg_pool2d(x, scale)


def _nearest(x, scale: int):
    return x.repeat_interleave(scale, -2).repeat_interleave(scale, -1)


def project_blocks(sr, lr, scale: int):
    """Each ``scale`` x ``scale`` block of ``sr`` shifted by one value and clipped to [0, 1] so that its mean is the
    matching pixel of ``lr`` (in [0, 1]); torch (B,C,H*s,W*s) and (B,C,H,W)."""
    import torch
    import torch.nn.functional as F

    shift = lr - _box(sr, scale)
    out = sr + _nearest(shift, scale)
    if out.min() >= 0 and out.max() <= 1:
        return out
    lo = -F.max_pool2d(sr, scale)  # every pixel <= 0: mean 0 <= lr
    hi = 1 + F.max_pool2d(-sr, scale)  # every pixel >= 1: mean 1 >= lr
    for _ in range(BISECTION_STEPS):
        mid = (lo + hi) / 2
        low_mean = _box((sr + _nearest(mid, scale)).clamp(0, 1), scale) < lr
        lo, hi = torch.where(low_mean, mid, lo), torch.where(low_mean, hi, mid)
    return (sr + _nearest((lo + hi) / 2, scale)).clamp(0, 1)


def back_project(sr, lr, scale: int):
    """torch (B,C,H*s,W*s) upscale and (B,C,H,W) input in [0,1] -> the corrected upscale (see module docstring)."""
    import torch.nn.functional as F

    smooth = F.interpolate(lr - _box(sr, scale), scale_factor=scale, mode="bilinear", align_corners=False)
    return project_blocks(sr + smooth, lr, scale)


def back_project_smooth(sr, lr, scale: int, iterations: int = 10):
    """Iterative back-projection (Irani and Peleg 1991): ``iterations`` times ``sr += bicubic_up(lr - box_k(sr))``,
    then clipped to [0, 1]. Every correction is a bicubic field of the LR residual, so no k x k block edge is drawn
    (the exact projection's last step shifts each block by its own value); the x k average approaches the input
    geometrically. Each output pixel depends on its input within ~2 x ``iterations`` LR pixels."""
    import torch.nn.functional as F

    for _ in range(iterations):
        sr = sr + F.interpolate(lr - _box(sr, scale), scale_factor=scale, mode="bicubic", align_corners=False)
    return sr.clamp(0, 1)


class BackProjected(Upscaler):
    """Any upscaler followed by ``back_project`` (exact x k box-average consistency with its input)."""

    def __init__(self, inner: Upscaler):
        self.inner, self.scale, self.name = inner, inner.scale, inner.name + "+bp"

    def upscale(self, image: np.ndarray) -> np.ndarray:
        return self.upscale_batch([image])[0]

    def upscale_batch(self, images: list[np.ndarray]) -> list[np.ndarray]:
        return back_project_batch(self.inner.upscale_batch(images), images, self.scale)


def back_project_batch(outputs: list[np.ndarray], inputs: list[np.ndarray], scale: int,
                       smooth: bool = False) -> list[np.ndarray]:
    """``back_project`` (or ``back_project_smooth``) of float32 (H*s, W*s, 3) upscales onto their (H, W, 3) inputs,
    in float64."""
    import torch

    sr = torch.from_numpy(np.ascontiguousarray(np.stack(outputs).transpose(0, 3, 1, 2), dtype=np.float32))
    lr = torch.from_numpy(np.ascontiguousarray(np.stack(inputs).transpose(0, 3, 1, 2), dtype=np.float32))
    fixed = (back_project_smooth if smooth else back_project)(sr.double(), lr.double(), scale).float()
    return list(fixed.permute(0, 2, 3, 1).numpy())
