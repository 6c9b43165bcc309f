"""The colours of real ground for the detail stage's start.

An autoencoder sample has the layout of a tile but washed-out colours: the 384:1 code averages shadows and bright
rock towards grey, and the ViT decoder leaves its 16 px patch grid as block edges. Before the patch synthesis adds
detail, the start is
- colour-matched: each channel is mapped (all the way, or part of the way: ``strength``), monotonically (so the layout's order of dark and bright is kept), onto
  the mean quantile function of the k training tiles whose coarse view is nearest to the start's (their
  Wasserstein barycentre), which brings back the contrast and the colour spread of comparable real ground;
- smoothed to its 1/``smooth`` view (area average, bicubic back), which removes the patch-grid edges; the
  synthesis then builds the detail below that scale from real patches.

The reference holds, per training tile with enough valid data, its coarse view and its per-channel quantiles of
the valid pixels only (no-data never counts as black). It is small and is stored with the patch banks.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from rockzoom.util.memory import release_mapped_pages

VIEW = 16
QUANTILES = 256


def _float_images(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W, 3) -> float32 (N, 3, H, W) in 0..255."""
    return torch.from_numpy(np.array(images[..., :3], dtype=np.float32)).permute(0, 3, 1, 2)


def coarse_views(images: np.ndarray, masks: np.ndarray | None = None, view: int = VIEW) -> torch.Tensor:
    """(N, 3 * view * view) area-averaged views; no-data pixels are left out of each cell's mean (a cell with no
    valid pixel takes the tile's valid mean)."""
    x = _float_images(images)
    if masks is None:
        m = torch.ones(x.shape[0], 1, *x.shape[2:])
    else:
        m = torch.from_numpy(np.asarray(masks, bool))[:, None].float()
    fill = (x * m).sum((2, 3), keepdim=True) / m.sum((2, 3), keepdim=True).clamp_min(1)
    num = F.adaptive_avg_pool2d(x * m + fill * (1 - m), view)
    return num.flatten(1)


def build_colour_reference(images: np.ndarray, masks: np.ndarray | None = None, *, min_valid: float = 0.9,
                           view: int = VIEW, quantiles: int = QUANTILES, tiles: np.ndarray | None = None,
                           chunk: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    """(views (n, 3 * view * view), quantiles (n, 3, quantiles)) of the tiles whose valid fraction is at least
    ``min_valid`` (all tiles with any valid pixel when none reaches it). ``tiles``: only these indices of
    ``images`` (default all). Read ``chunk`` tiles at a time (``images`` may be a memory map)."""
    tiles = np.arange(len(images)) if tiles is None else np.asarray(tiles)
    if masks is None:
        fraction = np.ones(len(tiles))
    else:
        fraction = np.array([np.asarray(masks[i], bool).mean() for i in tiles])
    release_mapped_pages(masks)
    keep = tiles[fraction >= min_valid]
    if len(keep) == 0:
        keep = tiles[fraction > 0]
    if len(keep) == 0:
        raise ValueError("no training tile holds valid pixels: no colour reference")
    levels = (np.arange(quantiles) + 0.5) / quantiles
    views, q = [], []
    for s in range(0, len(keep), chunk):
        part = keep[s:s + chunk]
        imgs = np.asarray(images[part])
        ms = np.ones(imgs.shape[:3], bool) if masks is None else np.asarray(masks[part], bool)
        q += [np.quantile(img[m][:, :3].astype(np.float32), levels, axis=0).T for img, m in zip(imgs, ms)]
        views.append(coarse_views(imgs, ms, view))
        release_mapped_pages(images, masks)
    return torch.cat(views), torch.from_numpy(np.stack(q).astype(np.float32))


def match_colours(start: np.ndarray, views: torch.Tensor, quantiles: torch.Tensor, k: int = 8,
                  strength: float = 1.0) -> np.ndarray:
    """uint8 (H, W, 3) start -> the same layout with the colour distribution of its k nearest reference tiles
    (strength < 1: that far from the start's own colours towards theirs).

    Per channel, each value v maps through its mid-rank in the start, (#(< v) + #(== v) / 2) / n, to the mean
    quantile function of the neighbours: a monotone lookup table, so equal values stay equal (no tie artefacts)."""
    view = int(round((views.shape[1] / 3) ** 0.5))
    d = ((views - coarse_views(start[None], view=view)) ** 2).sum(1)
    near = torch.topk(d, min(k, len(d)), largest=False).indices
    target = quantiles[near].mean(0).numpy()  # (3, Q)
    levels = (np.arange(target.shape[1]) + 0.5) / target.shape[1]
    out = np.empty(start.shape[:2] + (3,), np.uint8)
    for c in range(3):
        channel = start[..., c]
        counts = np.bincount(channel.ravel(), minlength=256).astype(np.float64)
        mid_rank = (np.cumsum(counts) - counts / 2) / channel.size
        lut = strength * np.interp(mid_rank, levels, target[c]) + (1 - strength) * np.arange(256)
        out[..., c] = np.clip(np.rint(lut), 0, 255).astype(np.uint8)[channel]
    return out


def smooth_to_view(start: np.ndarray, smooth: int) -> np.ndarray:
    """uint8 (H, W, 3): the start's 1/smooth view (area average) brought back to full size (bicubic)."""
    x = _float_images(start[None])
    h, w = x.shape[2:]
    low = F.adaptive_avg_pool2d(x, (max(1, h // smooth), max(1, w // smooth)))
    up = F.interpolate(low, size=(h, w), mode="bicubic", align_corners=False)
    return up[0].permute(1, 2, 0).round().clamp(0, 255).to(torch.uint8).numpy()
