"""The camera blur of the training LR (``sr.train.lr_blur``): what a native tile looks like per pixel.

A tree's coarser zooms are box averages of its native zoom, so their pixels are much crisper than the native ones
(the camera's blur shrinks ×4 with the pixel): on the real tree the finest Laplacian band of a zoom-21 view holds
e^1.1 ≈ 3× the energy of the next band, on native zoom-23 tiles about as much (log ratio ≈ 0). An upscaler trained on
such LR, applied to native tiles (option_a's samples, ``pyramid``'s zoom 24–25), meets softer input than it learned
from and paints soft, out-of-focus stones. ``lr_blur`` (a Gaussian σ in LR pixels, after the box average) gives the
training LR the native softness; ``finest_band_ratio`` is the statistic that picks it (scale-invariant ground: a
zoom's band ratios are its camera's, so the blurred LR should match the native tiles').

Native tiles also carry their source's JPEG blocks (on the real tree the luma step after every 8th pixel is 1.06 × the
step elsewhere), which a net never shown them sharpens into a grid ×4 as large (a 32 px grid on ``pyramid``'s zoom 25).
``lr_jpeg`` compresses the training LR last (blur, noise, then JPEG: a camera's order) so the net learns to look
through them; ``estimate_lr_jpeg`` picks the quality at which the LR's block step matches the HR tiles'.
"""
from __future__ import annotations

import io

import numpy as np
from PIL import Image
from scipy import ndimage

from rockzoom.metrics.grid import grid_ratio
from rockzoom.util.luma import LUMA

JPEG_BLOCK = 8  # px: the JPEG block side (its grid starts at each image's first pixel)


def blur_lr(lr: np.ndarray, sigma: float) -> np.ndarray:
    """(..., H, W, 3) LR images blurred by a Gaussian of ``sigma`` LR pixels (edges mirrored); uint8 input is
    rounded back to uint8 once like a real tile, float input stays float32; sigma 0 returns the input."""
    if sigma < 0:
        raise ValueError(f"sr.train.lr_blur must be >= 0, got {sigma}")
    if sigma == 0:
        return lr
    spatial = (sigma, sigma, 0)
    flat = lr.reshape(-1, *lr.shape[-3:]).astype(np.float32)
    out = np.stack([ndimage.gaussian_filter(im, spatial, mode="mirror") for im in flat])
    if lr.dtype == np.uint8:
        out = np.rint(out).clip(0, 255).astype(np.uint8)
    return out.reshape(lr.shape)


def add_noise(lr: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    """uint8 LR images plus seeded Gaussian noise of ``sigma`` grey levels (rounded once; sigma 0: the input). A net
    trained on noise-free blurred LR learns that any content at the LR's finest scale is attenuated signal and boosts
    it, a camera's noise included: the checkerboard of a deblurring net. Noise in its LR teaches it to tell them apart."""
    if sigma < 0:
        raise ValueError(f"sr.train.lr_noise must be >= 0, got {sigma}")
    if sigma == 0:
        return lr
    noise = np.random.default_rng(seed).normal(0.0, sigma, lr.shape).astype(np.float32)
    return np.rint(lr.astype(np.float32) + noise).clip(0, 255).astype(np.uint8)


def finest_band_ratio(images: np.ndarray, margin: int | None = None) -> float:
    """Median over images of log(energy of the luma's finest band / energy of the next band) (bands: differences
    of Gaussians σ 0-1 and 1-2 px, ``margin`` px from the borders left out, default min(8, side / 8)): ≈ 0 on the
    real tree's native tiles, ≈ 1.1 on their ×4 box averages."""
    images = np.asarray(images)
    margin = min(8, images.shape[1] // 8) if margin is None else margin
    ratios = []
    for im in images:
        lum = (im.astype(np.float64) / 255.0) @ LUMA
        g1, g2 = ndimage.gaussian_filter(lum, 1.0), ndimage.gaussian_filter(lum, 2.0)
        inner = (slice(margin, -margin),) * 2
        fine, next_ = ((lum - g1)[inner] ** 2).mean(), ((g1 - g2)[inner] ** 2).mean()
        if fine > 0 and next_ > 0:
            ratios.append(np.log(fine / next_))
    if not ratios:
        raise ValueError("finest_band_ratio: every image is flat")
    return float(np.median(ratios))


def estimate_lr_blur(hr: np.ndarray, lr: np.ndarray, *, step: float = 0.05, max_sigma: float = 2.0) -> float:
    """``lr_blur: auto``: the blur (LR px, to ``step``) at which the LR images' finest-band ratio falls to the HR
    images' own, linearly interpolated between the grid's neighbours (0 when the LR is already as soft, ``max_sigma``
    when even that is too crisp)."""
    target = finest_band_ratio(hr)
    sigmas = np.arange(0.0, max_sigma + step / 2, step)
    previous = None
    for sigma in sigmas:
        ratio = finest_band_ratio(blur_lr(lr.astype(np.float32), float(sigma)))
        if ratio <= target:
            if previous is None:
                return 0.0
            (s0, r0), s1 = previous, float(sigma)
            return round(s0 + (s1 - s0) * (r0 - target) / (r0 - ratio), 3)
        previous = (float(sigma), ratio)
    return max_sigma


def compress_lr(lr: np.ndarray, quality) -> np.ndarray:
    """uint8 (..., H, W, 3) LR images each through a JPEG round trip at ``quality`` (one for all, or one per image;
    1-100; chroma kept at full resolution, 4:4:4, as the real tiles' is: only the 8 px blocks are the camera's);
    quality 0: the input unchanged."""
    flat = lr.reshape(-1, *lr.shape[-3:])
    qualities = np.broadcast_to(np.asarray(quality), (len(flat),))
    if ((qualities < 0) | (qualities > 100) | (qualities != np.round(qualities))).any():
        raise ValueError(f"sr.train.lr_jpeg must be 0 (off) or a JPEG quality 1-100, got {quality}")
    if not qualities.any():
        return lr
    if lr.dtype != np.uint8:
        raise TypeError(f"compress_lr: uint8 images expected, got {lr.dtype}")
    out = flat.copy()
    for i, (im, q) in enumerate(zip(flat, qualities)):
        if q:
            buf = io.BytesIO()
            Image.fromarray(im).save(buf, "JPEG", quality=int(q), subsampling=0)
            out[i] = np.asarray(Image.open(buf).convert("RGB"))
    return out.reshape(lr.shape)


def jpeg_qualities(n: int, lowest: int, seed: int) -> np.ndarray:
    """``sr.train.lr_jpeg``: n qualities drawn uniformly from ``lowest`` to 100 (seeded), so the net meets LR from
    as blocky as the native tiles to nearly clean (generated samples carry about half the tiles' block step); 0: none."""
    if not lowest:
        return np.zeros(n, int)
    return np.random.default_rng(seed).integers(int(lowest), 101, n)


def block_step_ratio(images: np.ndarray) -> float:
    """The luma step after every 8th pixel over the step elsewhere (median over images): 1 without JPEG blocks."""
    return grid_ratio(images, JPEG_BLOCK)


def estimate_lr_jpeg(hr: np.ndarray, lr: np.ndarray, qualities=range(100, 49, -2)) -> int:
    """``lr_jpeg: auto``: the highest JPEG quality (of ``qualities``, best first) at which the uint8 LR images'
    block step reaches the HR images' own (0 when the LR already has as strong a grid, the last quality when
    even that is too weak)."""
    target = block_step_ratio(hr)
    if block_step_ratio(lr) >= target:
        return 0
    qualities = list(qualities)
    for q in qualities:
        if block_step_ratio(compress_lr(lr, q)) >= target:
            return int(q)
    return int(qualities[-1])
