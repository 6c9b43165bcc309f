"""Trivial reconstructions with a known float budget, for comparison with the 512-float latent."""
from __future__ import annotations

import numpy as np
from PIL import Image


def _fill_nodata(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """No-data pixels take the mean colour of the valid ones, so they do not bleed black into the baseline."""
    if mask.all():
        return image
    filled = image.copy()
    filled[~mask] = mean_colour(image, mask).astype(np.uint8)
    return filled


def mean_colour(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    valid = image[mask] if mask.any() else image.reshape(-1, 3)
    return valid.reshape(-1, 3).mean(axis=0).round()


def mean_colour_baseline(images: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Each tile replaced by its own mean valid colour (3 floats per tile)."""
    out = np.empty_like(images)
    for i, (im, m) in enumerate(zip(images, masks)):
        out[i] = mean_colour(im, m).astype(np.uint8)
    return out


def thumbnail_baseline(images: np.ndarray, masks: np.ndarray, side: int = 13) -> np.ndarray:
    """Antialiased bicubic thumbnail side x side x 3 (13*13*3 = 507 floats ~ the latent), upsampled bicubically."""
    size = images.shape[1]
    out = np.empty_like(images)
    for i, (im, m) in enumerate(zip(images, masks)):
        small = Image.fromarray(_fill_nodata(np.asarray(im), np.asarray(m))).resize((side, side), Image.BICUBIC)
        out[i] = np.asarray(small.resize((size, size), Image.BICUBIC))
    return out
