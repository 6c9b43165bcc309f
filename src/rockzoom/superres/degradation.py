"""The camera blur of the training LR (``sr.train.lr_blur``): what a native tile looks like per pixel.

A tree's coarser zooms are box averages of its native zoom, so their pixels are much crisper than the native ones
(the camera's blur shrinks ×4 with the pixel): on the real tree the finest Laplacian band of a zoom-21 view holds
e^1.1 ≈ 3× the energy of the next band, on native zoom-23 tiles about as much (log ratio ≈ 0). An upscaler trained on
such LR, applied to native tiles (option_a's samples, ``pyramid``'s zoom 24–25), meets softer input than it learned
from and paints soft, out-of-focus stones. ``lr_blur`` (a Gaussian σ in LR pixels, after the box average) gives the
training LR the native softness; ``finest_band_ratio`` is the statistic that picks it (scale-invariant ground: a
zoom's band ratios are its camera's, so the blurred LR should match the native tiles').
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

from rockzoom.util.luma import LUMA


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
