import numpy as np
import pytest

from rockzoom.scene import sun


def shadowed_stones(azimuth: float, n: int = 4, size: int = 96, seed: int = 0) -> np.ndarray:
    """Bright stones on grey ground, each casting a dark shadow a few px away along ``azimuth`` (image degrees)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    u = np.array([np.cos(np.deg2rad(azimuth)), np.sin(np.deg2rad(azimuth))])
    out = []
    for _ in range(n):
        img = np.full((size, size), 120.0)
        for _ in range(12):
            cy, cx, r = rng.uniform(10, size - 10), rng.uniform(10, size - 10), rng.uniform(3, 6)
            sy, sx = cy + 0.8 * r * u[1], cx + 0.8 * r * u[0]
            img[(yy - sy) ** 2 + (xx - sx) ** 2 < r * r] = 40.0  # the shadow first, then the stone over it
            img[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = 200.0
        out.append(np.repeat(img[..., None], 3, -1).astype(np.uint8))
    return np.stack(out)


def test_transform_azimuth_matches_the_measured_direction_of_transformed_images():
    images = shadowed_stones(30.0)
    base = sun.sun_azimuth(images, sigma=0.5)["azimuth"]
    for k, flip in sun.DIHEDRAL:
        turned = np.stack([sun.apply(im, k, flip) for im in images])
        measured = sun.sun_azimuth(turned, sigma=0.5)["azimuth"]
        assert sun.angle_gap(measured, sun.transform_azimuth(base, k, flip)) < 3.0, (k, flip)


@pytest.mark.parametrize("azimuth", [0.0, 60.0, 135.0, 250.0])
def test_the_estimate_turns_with_the_shadows(azimuth):
    """The estimate is equivariant: shadows cast 90 degrees further round give an azimuth 90 degrees further."""
    a = sun.sun_azimuth(shadowed_stones(azimuth, seed=1), sigma=0.5)["azimuth"]
    b = sun.sun_azimuth(shadowed_stones(azimuth + 90.0, seed=1), sigma=0.5)["azimuth"]
    assert abs(sun.angle_gap(a, b) - 90.0) < 12.0


def test_consistent_transforms():
    # a diagonal sun is kept by the mirror across that diagonal (transpose), an axis sun by the mirror along it
    assert set(sun.sun_consistent_transforms(45.0, 5.0)) == {(0, False), (3, True)}
    assert set(sun.sun_consistent_transforms(90.0, 5.0)) == {(0, False), (0, True)}
    assert sun.sun_consistent_transforms(58.0, 10.0) == [(0, False)]  # the real survey's: only the identity
    for k, flip in sun.sun_consistent_transforms(45.0, 5.0):
        assert sun.angle_gap(sun.transform_azimuth(45.0, k, flip), 45.0) <= 5.0


def test_masks_leave_out_images_with_no_data():
    images = shadowed_stones(30.0)
    masks = np.ones(images.shape[:3], bool)
    broken = images.copy()
    broken[0, :, :48] = 0  # a no-data half: a strong luminance edge of its own
    masks[0, :, :48] = False
    with_masks = sun.sun_azimuth(broken, masks, sigma=0.5)["azimuth"]
    assert sun.angle_gap(with_masks, sun.sun_azimuth(images[1:], sigma=0.5)["azimuth"]) < 1e-6
    with pytest.raises(ValueError, match="no wholly valid"):
        sun.sun_azimuth(images, np.zeros(images.shape[:3], bool))
