"""Image-quality metrics shared by every stage: masked PSNR (RGB and Y), SSIM, and offline texture measures.

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


def _as_batch(images: np.ndarray, name: str) -> np.ndarray:
    if images.ndim == 3:
        images = images[None]
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"{name} must be (N,H,W,3) or (H,W,3), got shape {images.shape}")
    return images


def _crop(a: np.ndarray, border: int) -> np.ndarray:
    return a[border:-border, border:-border] if border > 0 else a


def _luma(rgb255: np.ndarray) -> np.ndarray:
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
    pred, target = _as_batch(np.asarray(pred), "pred"), _as_batch(np.asarray(target), "target")
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
        err_y = (_luma(p) - _luma(t))[valid]
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


def _gray(image: np.ndarray) -> np.ndarray:
    """Luma in [0,1] (float64), used by the spectral texture measures."""
    g = (_luma(to_float255(image)) - 16.0) / 219.0
    return g


def _power_2d(image: np.ndarray) -> np.ndarray:
    g = _gray(image)
    g = g - g.mean()
    window = np.outer(np.hanning(g.shape[0]), np.hanning(g.shape[1]))
    return np.abs(np.fft.fft2(g * window)) ** 2 / g.size


def _radial_frequency(shape: tuple[int, int]) -> np.ndarray:
    fy = np.fft.fftfreq(shape[0])[:, None]
    fx = np.fft.fftfreq(shape[1])[None, :]
    return np.sqrt(fy * fy + fx * fx)


def radial_power_spectrum(images, n_bins: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Radially averaged power spectrum of the luma (Hann-windowed, mean removed), averaged over images.

    Returns (frequencies in cycles/pixel at bin centres, mean power per bin); bins span (0, 0.5].
    """
    images = _as_batch(np.asarray(images), "images")
    h, w = images.shape[1:3]
    n_bins = n_bins or min(h, w) // 2
    radius = _radial_frequency((h, w))
    edges = np.linspace(0.0, 0.5, n_bins + 1)
    bin_index = np.digitize(radius.ravel(), edges[1:], right=True)  # 0..n_bins; n_bins = beyond Nyquist (corners)
    inside = (radius.ravel() > 0) & (bin_index < n_bins)
    counts = np.bincount(bin_index[inside], minlength=n_bins).astype(np.float64)
    total = np.zeros(n_bins)
    for i in range(len(images)):
        power = _power_2d(images[i]).ravel()
        total += np.bincount(bin_index[inside], weights=power[inside], minlength=n_bins)
    spectrum = total / np.maximum(counts, 1) / len(images)
    return (edges[:-1] + edges[1:]) / 2.0, spectrum


def spectrum_distance(a, b, n_bins: int | None = None) -> float:
    """Mean absolute difference (dB) of the radially averaged power spectra of two image sets of equal size."""
    _, pa = radial_power_spectrum(a, n_bins)
    _, pb = radial_power_spectrum(b, n_bins)
    tiny = 1e-20
    return float(np.mean(np.abs(10.0 * np.log10((pa + tiny) / (pb + tiny)))))


def hf_energy_ratio(pred, target, cutoff: float = 0.25) -> float:
    """Spectral energy above ``cutoff`` cycles/pixel of ``pred`` divided by that of ``target``.

    1.0 = the right amount of fine detail, < 1 blurrier than the reference, > 1 more (invented) detail.
    """
    pred, target = _as_batch(np.asarray(pred), "pred"), _as_batch(np.asarray(target), "target")
    if pred.shape != target.shape:
        raise ValueError(f"pred {pred.shape} and target {target.shape} differ in shape")
    high = _radial_frequency(target.shape[1:3]) > cutoff
    e_pred = e_target = 0.0
    for i in range(len(target)):
        e_pred += float(_power_2d(pred[i])[high].sum())
        e_target += float(_power_2d(target[i])[high].sum())
    if e_target == 0:
        raise ValueError("target has no energy above the cutoff frequency (flat images?)")
    return e_pred / e_target
