"""Block-matched residual transfer: each block of a learned upscale gets the residual (real ground minus the net's
rendering of it) of the training-ground block whose rendering looks most like it.

The exemplar canvas (``rockzoom.superres.exemplar``) holds real ground S and what the PSNR net makes of it, A. Every
``block`` px block of the net's output B is matched to the A block (origins on a ``stride`` grid, wholly valid) with
the nearest LR look (the block's ``scale`` x box average, projected onto ``dims`` principal axes of the bank), and
S - A of that block is added, feathered linearly over ``overlap`` px where blocks overlap. Whole blocks keep their
real grit, lichen and edges together (no per-pixel vote averages them away), and a block's match depends only on B
inside it.

Blocks lie on a grid of step ``block - overlap`` from the image origin (plus one block flush with the far edges), so a
tiled upscale whose tile origins (core minus context, x scale) fall on that grid, with at least ``block / scale`` px of
context, makes the same choices as the whole image.

``shape_residual`` (opt-in) then fits the placed residual to the output it lands on: smoothed along the output's local
orientation (real fine detail runs with the structure it sits on; another place's detail laid over it crosses it),
and moved from where its source had coarse edges to where the output has them. Both are local (reach < 24 px), so
the tiled output still equals the whole one.
"""
from __future__ import annotations

import logging

import numpy as np
import torch
from scipy import ndimage

from rockzoom.metrics.judges import coherence, gradients, structure_tensor
from rockzoom.metrics.realism import valid_corners
from rockzoom.util.luma import LUMA

log = logging.getLogger(__name__)


def feather(block: int, overlap: int) -> np.ndarray:
    """(block, block, 1) weights: 1 inside, rising linearly (never to 0) over ``overlap`` px at every edge."""
    w = np.ones(block, np.float32)
    if overlap:
        ramp = np.linspace(0.0, 1.0, overlap + 2, dtype=np.float32)[1:-1]
        w[:overlap], w[-overlap:] = ramp, ramp[::-1]
    return np.outer(w, w)[..., None]


LUMA32 = LUMA.astype(np.float32)
ORIENTATIONS = 8  # directions of the along-orientation smoothing
SHAPE_WINDOW = 4.0  # px: Gaussian window of the structure tensor and of the residual's local energy


def coarse_edges(image: np.ndarray) -> np.ndarray:
    """float32 (H, W): local coarse-edge strength of an (H, W, 3) image in 0-255 (gradient magnitude of the luma
    smoothed by 1 px, averaged over 2 px)."""
    lum = ndimage.gaussian_filter(np.asarray(image, np.float32) @ LUMA32, 1.0)
    return ndimage.gaussian_filter(np.hypot(ndimage.sobel(lum, 0), ndimage.sobel(lum, 1)), 2.0)


def oriented_kernels(sigma: float, n: int = ORIENTATIONS) -> list[np.ndarray]:
    """n normalised Gaussian line kernels (``sigma`` px along direction i * pi / n, 0.5 px across; x right, y down)."""
    half = int(np.ceil(3 * sigma))
    yy, xx = np.mgrid[-half:half + 1, -half:half + 1].astype(np.float32)
    kernels = []
    for i in range(n):
        t = np.pi * i / n
        along, across = xx * np.cos(t) + yy * np.sin(t), -xx * np.sin(t) + yy * np.cos(t)
        k = np.exp(-along ** 2 / (2 * sigma ** 2) - across ** 2 / (2 * 0.5 ** 2))
        kernels.append((k / k.sum()).astype(np.float32))
    return kernels


def shape_residual(net_out: np.ndarray, residual: np.ndarray, source_edges: np.ndarray | None, *, orient_sigma: float,
                   edge_power: float, edge_scale: float) -> np.ndarray:
    """The placed ``residual`` (H, W, 3) fitted to ``net_out`` (H, W, 3, 0-255): blended towards its smoothing along
    the output's local orientation by the structure tensor's coherence (``orient_sigma`` px; 0 = off), times
    ((E_out + c) / (E_src + c)) ** ``edge_power`` clipped to [1/4, 4] (E: ``coarse_edges``, E_src ``source_edges``
    placed like the residual, c = ``edge_scale``; 0 = off); then rescaled to the residual's own local energy."""
    out = residual
    if orient_sigma > 0:
        lum = np.asarray(net_out, np.float32) @ LUMA32
        jxx, jyy, jxy = structure_tensor(*gradients(lum, 1.0), SHAPE_WINDOW)
        weight = coherence(jxx, jyy, jxy)[..., None]
        along = (0.5 * np.arctan2(2 * jxy, jxx - jyy) + np.pi / 2) % np.pi  # the edge runs across the gradient
        pick = np.rint(along / (np.pi / ORIENTATIONS)).astype(int) % ORIENTATIONS
        kernels = torch.from_numpy(np.stack(oriented_kernels(orient_sigma)))[:, None]  # (n, 1, k, k)
        half = kernels.shape[-1] // 2
        channels = torch.from_numpy(np.ascontiguousarray(residual.transpose(2, 0, 1)))[:, None]  # (3, 1, H, W)
        every = torch.nn.functional.conv2d(torch.nn.functional.pad(channels, (half,) * 4, mode="reflect"), kernels)
        index = torch.from_numpy(pick)[None, None].expand(3, 1, *pick.shape)
        smoothed = every.gather(1, index)[:, 0].numpy().transpose(1, 2, 0)
        out = weight * smoothed + (1 - weight) * residual
    if edge_power > 0:
        gain = ((coarse_edges(net_out) + edge_scale) / (source_edges + edge_scale)) ** edge_power
        out = out * np.clip(gain, 0.25, 4.0)[..., None]
    if out is residual:
        return residual
    energy = ndimage.gaussian_filter((residual * residual).sum(-1), SHAPE_WINDOW)
    shaped = ndimage.gaussian_filter((out * out).sum(-1), SHAPE_WINDOW)
    return (out * np.sqrt(energy / np.maximum(shaped, 1e-6))[..., None]).astype(np.float32)


def grid_starts(length: int, block: int, step: int) -> list[int]:
    """Block origins along one axis: every ``step`` px, plus one flush with the far edge (none if too short)."""
    if length < block:
        return []
    starts = list(range(0, length - block + 1, step))
    if starts[-1] != length - block:
        starts.append(length - block)
    return starts


class BlockBank:
    """The matchable blocks of an exemplar canvas and their residuals (module docstring)."""

    def __init__(self, source: np.ndarray, rendering: np.ndarray, mask: np.ndarray, *, scale: int, block: int,
                 overlap: int, stride: int, dims: int, seed: int = 0, fit_samples: int = 20000,
                 orient_sigma: float = 0.0, edge_power: float = 0.0):
        if block % scale or stride % scale:
            raise ValueError(f"exemplar block ({block}) and block_stride ({stride}) must be multiples of the scale "
                             f"({scale})")
        if not 0 <= overlap < block:
            raise ValueError(f"exemplar block_overlap must be in [0, block), got {overlap} for block {block}")
        self.scale, self.block, self.overlap = scale, block, overlap
        self.weights = feather(block, overlap)
        self.origins = np.argwhere(valid_corners(np.asarray(mask, bool), block, margin=0)[::stride, ::stride]) * stride
        if len(self.origins) == 0:
            raise ValueError(f"no wholly valid {block} px block in the exemplar canvas")
        self.residual = np.asarray(source, np.int16) - np.asarray(rendering, np.int16)
        self.orient_sigma, self.edge_power = float(orient_sigma), float(edge_power)
        self.source_edges = coarse_edges(rendering) if self.edge_power > 0 else None
        self.edge_scale = (float(np.median(self.source_edges[np.asarray(mask, bool)]))
                           if self.source_edges is not None else 0.0)
        lr = self._lr(np.asarray(rendering))
        n = block // scale
        views = np.lib.stride_tricks.sliding_window_view(lr, (n, n), axis=(0, 1))  # (h', w', 3, n, n)
        oy, ox = self.origins[:, 0] // scale, self.origins[:, 1] // scale
        rng = np.random.default_rng(seed)
        fit = rng.choice(len(oy), min(fit_samples, len(oy)), replace=False)
        sample = torch.from_numpy(views[oy[fit], ox[fit]].reshape(len(fit), -1))
        self.mean = sample.mean(0)
        _, _, v = torch.linalg.svd(sample - self.mean, full_matrices=False)
        self.axes = v[:dims].T.contiguous()  # (D, dims)
        chunks = [slice(s, s + 8192) for s in range(0, len(oy), 8192)]
        table = torch.cat([self._project(torch.from_numpy(views[oy[c], ox[c]].reshape(len(oy[c]), -1)))
                           for c in chunks])
        # nearest block = argmin_k |k|² - 2 q.k: one matmul of [q, 1] with these columns
        self.columns = torch.cat([-2 * table, (table * table).sum(1, keepdim=True)], 1).T.contiguous()
        log.info("block bank: %d blocks of %d px (stride %d), %d dims", len(self.origins), block, stride, dims)

    def _lr(self, image: np.ndarray) -> np.ndarray:
        """float32 box means by the scale (not ``scene.novelty.box_down``: its float64 would double the canvas's
        transient memory)."""
        k = self.scale
        h, w = image.shape[0] // k, image.shape[1] // k
        return np.asarray(image[:h * k, :w * k], np.float32).reshape(h, k, w, k, 3).mean((1, 3))

    def _project(self, features: torch.Tensor) -> torch.Tensor:
        return (features - self.mean) @ self.axes

    def residual_for(self, net_out: np.ndarray) -> np.ndarray:
        """float32 (H, W, 3) residual (0-255 units) matched to ``net_out`` (float (H, W, 3) in 0-255), shaped to it
        when ``orient_sigma`` or ``edge_power`` is on (``shape_residual``); zero where no whole block fits."""
        h, w = net_out.shape[:2]
        b, step = self.block, self.block - self.overlap
        blocks = [(y, x) for y in grid_starts(h, b, step) for x in grid_starts(w, b, step)]
        if not blocks:
            return np.zeros(net_out.shape, np.float32)
        lr = self._lr(net_out)
        k = self.scale
        query = np.stack([lr[y // k:(y + b) // k, x // k:(x + b) // k].transpose(2, 0, 1) for y, x in blocks])
        q = self._project(torch.from_numpy(query.reshape(len(blocks), -1)))
        q = torch.cat([q, torch.ones(len(q), 1)], 1)
        best = torch.cat([(q[i:i + 256] @ self.columns).argmin(1) for i in range(0, len(q), 256)]).numpy()
        acc = np.zeros(net_out.shape, np.float32)
        total = np.zeros(net_out.shape[:2] + (1,), np.float32)
        edges = np.zeros(net_out.shape[:2], np.float32) if self.source_edges is not None else None
        for (y, x), i in zip(blocks, best):
            sy, sx = self.origins[i]
            acc[y:y + b, x:x + b] += self.weights * self.residual[sy:sy + b, sx:sx + b]
            total[y:y + b, x:x + b] += self.weights
            if edges is not None:
                edges[y:y + b, x:x + b] += self.weights[..., 0] * self.source_edges[sy:sy + b, sx:sx + b]
        total = np.maximum(total, 1e-6)
        return shape_residual(net_out, acc / total, edges / total[..., 0] if edges is not None else None,
                              orient_sigma=self.orient_sigma, edge_power=self.edge_power, edge_scale=self.edge_scale)
