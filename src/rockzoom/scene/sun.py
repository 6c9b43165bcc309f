"""The survey's sun direction, and which flips and quarter turns keep it.

Every stone of a tile is lit from one side and casts its shadow on the other, so luminance steps are lopsided:
along the sun's direction a directional derivative has a skewed distribution (a sharp drop into the shadow, a
gentler rise across the lit face), and its skewness flips sign in the opposite direction. ``sun_azimuth`` is the
phase of the first circular harmonic of the mean skewness profile over directions (angles in image coordinates:
0 deg = +x (right), 90 deg = +y (down)). A flip or quarter turn of a tile moves that direction; only the transforms
that leave it within ``tolerance`` degrees keep the survey's lighting (``sun_consistent_transforms``); the identity
always does. Transforms are (k, flip): ``np.rot90(image, k)``, then a left-right mirror when flip.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage, stats

from rockzoom.util.luma import LUMA

DIHEDRAL = [(k, flip) for flip in (False, True) for k in range(4)]


def skew_profile(images: np.ndarray, masks: np.ndarray | None = None, *, angles: int = 24, sigma: float = 1.0,
                 max_images: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(angles in degrees, mean over images of the skewness of the luminance derivative along each angle), from
    at most ``max_images`` images (a seeded draw) of uint8 (N, H, W, 3), smoothed by ``sigma`` px. With ``masks``
    (bool (N, H, W), True = valid) only wholly valid images count: a no-data edge is a luminance step of its own."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] < 3:
        raise ValueError(f"expected (N, H, W, 3) images, got {images.shape}")
    if masks is not None:
        keep = np.asarray(masks, bool).reshape(len(images), -1).all(1)
        if not keep.any():
            raise ValueError("no wholly valid image to measure the sun direction on")
        images = images[keep]
    if len(images) > max_images:
        images = images[np.sort(np.random.default_rng(seed).choice(len(images), max_images, replace=False))]
    theta = np.arange(angles) * (360.0 / angles)
    c, s = np.cos(np.deg2rad(theta)), np.sin(np.deg2rad(theta))
    out = np.zeros(angles)
    for image in images:
        lum = image[..., :3].astype(np.float64) @ LUMA
        dy, dx = np.gradient(ndimage.gaussian_filter(lum, sigma) if sigma else lum)
        dx, dy = dx[2:-2, 2:-2].ravel(), dy[2:-2, 2:-2].ravel()
        out += [stats.skew(ci * dx + si * dy) for ci, si in zip(c, s)]
    return theta, out / len(images)


def sun_azimuth(images: np.ndarray, masks: np.ndarray | None = None, **kwargs) -> dict:
    """{"azimuth": degrees in [0, 360), "strength": the first harmonic's amplitude (skewness units)} of the images'
    derivative skewness profile (``skew_profile`` keywords)."""
    theta, prof = skew_profile(images, masks, **kwargs)
    t = np.deg2rad(theta)
    a, b = np.mean(prof * np.cos(t)) * 2, np.mean(prof * np.sin(t)) * 2
    return {"azimuth": float(np.rad2deg(np.arctan2(b, a)) % 360), "strength": float(np.hypot(a, b))}


def transform_azimuth(azimuth: float, k: int, flip: bool) -> float:
    """Where a direction (degrees, image coordinates) points after ``np.rot90(image, k)`` and an optional
    left-right mirror: rot90 maps (dx, dy) to (dy, -dx), i.e. subtracts 90 deg; the mirror maps theta to 180 - theta."""
    a = (azimuth - 90.0 * k) % 360
    return float((180.0 - a) % 360 if flip else a)


def angle_gap(a: float, b: float) -> float:
    """Smallest absolute difference of two angles (degrees)."""
    d = abs(a - b) % 360
    return float(min(d, 360 - d))


def sun_consistent_transforms(azimuth: float, tolerance: float = 10.0) -> list[tuple[int, bool]]:
    """The (k, flip) transforms that move the sun direction by at most ``tolerance`` degrees (identity first)."""
    return [(k, f) for k, f in DIHEDRAL if angle_gap(transform_azimuth(azimuth, k, f), azimuth) <= tolerance]


def apply(image: np.ndarray, k: int, flip: bool) -> np.ndarray:
    """``image`` (H, W, ...) under the transform (k, flip), contiguous."""
    out = np.rot90(image, k)
    return np.ascontiguousarray(out[:, ::-1] if flip else out)
