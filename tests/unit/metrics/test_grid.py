"""grid_ratio: about 1 for images with no pixel grid, large for enlarged pixels."""
import numpy as np
from scipy import ndimage

from rockzoom.metrics.grid import grid_ratio


def test_grid_ratio_sees_enlarged_pixels_and_not_smooth_ground():
    rng = np.random.default_rng(0)
    small = (rng.random((3, 16, 16, 3)) * 255).astype(np.uint8)
    nearest = small.repeat(4, 1).repeat(4, 2)
    assert grid_ratio(nearest, 4) == np.inf  # no step inside an enlarged pixel
    ground = np.stack([ndimage.gaussian_filter(rng.normal(128, 40, (64, 64, 3)), (1.5, 1.5, 0)) for _ in range(3)])
    ground = ground.clip(0, 255).astype(np.uint8)
    assert abs(grid_ratio(ground, 4) - 1) < 0.05
    soft = np.stack([ndimage.gaussian_filter(im.astype(float), (1.0, 1.0, 0)) for im in nearest]).astype(np.uint8)
    assert grid_ratio(soft, 4) > 1.3 > grid_ratio(ground, 4)  # blurred cells still show the grid
    assert grid_ratio(np.full((2, 8, 8, 3), 9, np.uint8), 4) == 1.0  # flat: no grid
