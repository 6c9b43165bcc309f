"""How much an upscale shows its input's pixel grid: the checkerboard a deblurring net paints.

``grid_ratio``: the mean absolute luma step across the borders of the input's pixels (every ``scale``-th column and
row of the output) over the mean step inside them. Ground has no preferred phase, so a real image scores about 1;
nearest-neighbour enlargement scores without bound (no steps inside a pixel), and a net that boosts its input's
finest content into crisp 4 × 4 cells scores above 1.
"""
from __future__ import annotations

import numpy as np

from rockzoom.util.luma import LUMA


def grid_ratio(images, scale: int) -> float:
    """Median over uint8 (N, H, W, 3) images of the step across ``scale`` px cell borders / the step inside cells."""
    ratios = []
    for im in np.asarray(images):
        lum = im.astype(np.float64) @ LUMA
        dx, dy = np.abs(np.diff(lum, axis=1)), np.abs(np.diff(lum, axis=0))
        bx, by = (np.arange(dx.shape[1]) % scale) == scale - 1, (np.arange(dy.shape[0]) % scale) == scale - 1
        inside = dx[:, ~bx].mean() + dy[~by].mean()
        across = dx[:, bx].mean() + dy[by].mean()
        ratios.append(across / inside if inside > 0 else (np.inf if across > 0 else 1.0))
    return float(np.median(ratios))
