"""Image-quality metrics shared by every stage: masked PSNR (RGB and Y), SSIM.

Conventions (DESIGN.md "Contracts"):
- images are uint8 [0,255] or float in [0,1] (scaled to [0,255] without rounding), shape (N,H,W,3) or (H,W,3);
- ``mask`` is bool (N,H,W), True = valid pixel; no-data pixels never count;
- ``border`` pixels are cropped on every side (the SR convention uses border = scale);
- PSNR peak is 255; ``psnr_pooled`` is the PSNR of the pixel-weighted mean MSE, ``psnr_mean`` the mean of per-image
  PSNRs with a bootstrap 95% CI; Y is BT.601 luma (MATLAB ``rgb2ycbcr``: Y = 16 + (65.481 R + 128.553 G + 24.966 B)/255);
- SSIM: 11x11 Gaussian window, sigma 1.5, via pytorch_msssim; no-data pixels of the prediction are filled from the target.
Images are processed one at a time so that 2048² (and larger) sets stay memory-friendly.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from pytorch_msssim import ssim as _ssim

PEAK = 255.0
MAX_PSNR = 100.0  # per-image PSNR of identical images is capped here so that means stay finite
Y_WEIGHTS = np.array([65.481, 128.553, 24.966]) / 255.0
SSIM_WINDOW = 11
SSIM_SIGMA = 1.5


def psnr_from_mse(mse: float, peak: float = PEAK) -> float:
    """PSNR in dB for a mean squared error on a [0, peak] scale; inf for a perfect match."""
    if mse < 0:
        raise ValueError(f"mse must be >= 0, got {mse}")
    if mse == 0:
        return math.inf
    return 10.0 * math.log10(peak * peak / mse)


def to_float255(image: np.ndarray) -> np.ndarray:
    """uint8 [0,255] or float [0,1] -> float64 [0,255] (no rounding)."""
    if image.dtype == np.uint8:
        return image.astype(np.float64)
    if np.issubdtype(image.dtype, np.floating):
        return image.astype(np.float64) * PEAK
    raise TypeError(f"images must be uint8 or float in [0,1], got {image.dtype}")


def as_batch(images: np.ndarray, name: str) -> np.ndarray:
    if images.ndim == 3:
        images = images[None]
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"{name} must be (N,H,W,3) or (H,W,3), got shape {images.shape}")
    return images


def _crop(a: np.ndarray, border: int) -> np.ndarray:
    return a[border:-border, border:-border] if border > 0 else a


def luma(rgb255: np.ndarray) -> np.ndarray:
    return 16.0 + rgb255 @ Y_WEIGHTS


def _ssim_one(pred: np.ndarray, target: np.ndarray) -> float:
    if min(pred.shape[:2]) < SSIM_WINDOW:
        return math.nan
    x = torch.from_numpy(np.ascontiguousarray(pred.transpose(2, 0, 1), dtype=np.float32))[None]
    y = torch.from_numpy(np.ascontiguousarray(target.transpose(2, 0, 1), dtype=np.float32))[None]
    return float(_ssim(x, y, data_range=PEAK, win_size=SSIM_WINDOW, win_sigma=SSIM_SIGMA))


def bootstrap_ci(values: np.ndarray, seed: int = 0, n_boot: int = 2000, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the mean."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 0:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), size=(n_boot, len(values)))].mean(axis=1)
    alpha = (1.0 - level) / 2.0
    return float(np.quantile(means, alpha)), float(np.quantile(means, 1.0 - alpha))


def evaluate(pred, target, mask=None, border: int = 0, seed: int = 0, with_ssim: bool = True) -> dict:
    """Masked PSNR (RGB and Y, pooled and per-image mean with bootstrap CI) and SSIM of ``pred`` against ``target``."""
    pred, target = as_batch(np.asarray(pred), "pred"), as_batch(np.asarray(target), "target")
    if pred.shape != target.shape:
        raise ValueError(f"pred {pred.shape} and target {target.shape} differ in shape")
    if mask is not None:
        mask = np.asarray(mask)
        if mask.ndim == 2:
            mask = mask[None]
        if mask.shape != target.shape[:3]:
            raise ValueError(f"mask {mask.shape} does not match images {target.shape[:3]}")
    if border < 0 or 2 * border >= min(target.shape[1:3]):
        raise ValueError(f"border {border} does not fit images of size {target.shape[1:3]}")

    sse_rgb = sse_y = 0.0
    count = 0
    per_psnr, per_psnr_y, per_ssim = [], [], []
    n_empty = 0
    for i in range(len(target)):
        p, t = _crop(to_float255(pred[i]), border), _crop(to_float255(target[i]), border)
        valid = np.ones(t.shape[:2], bool) if mask is None else _crop(mask[i].astype(bool), border)
        n_valid = int(valid.sum())
        if n_valid == 0:
            n_empty += 1
            continue
        err = (p - t)[valid]
        err_y = (luma(p) - luma(t))[valid]
        s_rgb, s_y = float(np.sum(err * err)), float(np.sum(err_y * err_y))
        sse_rgb, sse_y, count = sse_rgb + s_rgb, sse_y + s_y, count + n_valid
        per_psnr.append(min(psnr_from_mse(s_rgb / (3 * n_valid)), MAX_PSNR))
        per_psnr_y.append(min(psnr_from_mse(s_y / n_valid), MAX_PSNR))
        if with_ssim:
            per_ssim.append(_ssim_one(np.where(valid[..., None], p, t), t))

    n = len(per_psnr)
    if n == 0:
        raise ValueError("no valid pixels to evaluate (every image is fully masked or cropped away)")
    ci_low, ci_high = bootstrap_ci(np.array(per_psnr), seed=seed)
    return {
        "n": n,
        "n_empty": n_empty,
        "psnr_pooled": psnr_from_mse(sse_rgb / (3 * count)),
        "psnr_mean": float(np.mean(per_psnr)),
        "psnr_ci_low": ci_low,
        "psnr_ci_high": ci_high,
        "psnr_y_pooled": psnr_from_mse(sse_y / count),
        "psnr_y_mean": float(np.mean(per_psnr_y)),
        "ssim": float(np.nanmean(per_ssim)) if per_ssim and not np.all(np.isnan(per_ssim)) else math.nan,
    }
