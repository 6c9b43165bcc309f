"""Spectral texture measures: radially averaged power spectrum of the luma, spectrum distance, HF energy ratio.

Images follow the fidelity conventions (uint8 [0,255] or float [0,1], (N,H,W,3) or (H,W,3)).
"""
from __future__ import annotations

import numpy as np

from rockzoom.metrics.fidelity import as_batch, luma, to_float255


def _gray(image: np.ndarray) -> np.ndarray:
    """Luma in [0,1] (float64), used by the spectral texture measures."""
    g = (luma(to_float255(image)) - 16.0) / 219.0
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
    images = as_batch(np.asarray(images), "images")
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
    pred, target = as_batch(np.asarray(pred), "pred"), as_batch(np.asarray(target), "target")
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


def stationary_w2(a, b) -> float:
    """Squared 2-Wasserstein distance per pixel (0-255 units²) between two image sets, each modelled as a stationary
    Gaussian field with its mean power spectrum per channel (each image's mean removed):
    sum over frequencies of (sqrt P_a - sqrt P_b)², divided by the pixel count, averaged over channels.

    With ``a`` an MMSE estimator's outputs and ``b`` the real images, MSE(estimator) + this is the Gaussian estimate of
    the lowest MSE any estimator reaches whose outputs are distributed like real images (Freirich, Michaeli and Meir,
    "A theory of the distortion-perception tradeoff in Wasserstein space", NeurIPS 2021)."""
    a, b = as_batch(np.asarray(a), "a"), as_batch(np.asarray(b), "b")
    if a.shape[1:] != b.shape[1:]:
        raise ValueError(f"a {a.shape} and b {b.shape} differ in image shape")

    def power(images):
        total = 0.0
        for image in images:  # one image at a time: memory bounded by an image
            x = to_float255(image).astype(np.float64)
            x = x - x.mean(axis=(0, 1))
            total = total + np.abs(np.fft.fft2(x, axes=(0, 1))) ** 2
        return total / len(images)

    h, w = a.shape[1:3]
    return float(((np.sqrt(power(a)) - np.sqrt(power(b))) ** 2).sum(axis=(0, 1)).mean() / (h * w) ** 2)
