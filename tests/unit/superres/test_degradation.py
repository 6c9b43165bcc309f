"""The training LR's camera blur (sr.train.lr_blur): a plain Gaussian of LR pixels, and the band ratio that picks it."""
import numpy as np
import pytest
from scipy import ndimage

from rockzoom.data.store import load_split
from rockzoom.superres.data import make_pairs
from rockzoom.superres.degradation import add_noise, blur_lr, estimate_lr_blur, finest_band_ratio
from rockzoom.superres.train import degrade_pairs, trained_lr_blur, trained_lr_noise


def _field(seed=0, size=128):
    """A 1/f (scale-invariant) grey field in uint8 RGB, like ground whose band ratios are its camera's."""
    rng = np.random.default_rng(seed)
    f = np.fft.fftfreq(size)
    radius = np.hypot(*np.meshgrid(f, f))
    radius[0, 0] = 1.0
    img = np.fft.ifft2(np.fft.fft2(rng.normal(size=(size, size))) / radius).real
    img = (img - img.mean()) / img.std() * 40 + 128
    return np.repeat(np.clip(img, 0, 255)[..., None], 3, axis=-1).astype(np.uint8)


def test_blur_is_a_gaussian_of_lr_pixels_and_keeps_the_dtype():
    tile = _field()
    assert blur_lr(tile, 0.0) is tile
    out = blur_lr(tile[None], 1.0)
    assert out.dtype == np.uint8 and out.shape == (1, *tile.shape)
    expected = np.rint(ndimage.gaussian_filter(tile.astype(np.float32), (1, 1, 0), mode="mirror"))
    np.testing.assert_array_equal(out[0], expected.astype(np.uint8))
    flat = np.full((2, 8, 8, 3), 0.25, np.float32)
    np.testing.assert_allclose(blur_lr(flat, 2.0), 0.25, atol=1e-6)
    assert blur_lr(flat, 2.0).dtype == np.float32
    with pytest.raises(ValueError, match="lr_blur"):
        blur_lr(tile, -1.0)


def test_band_ratio_falls_with_blur_and_rises_with_a_box_average():
    fields = np.stack([_field(s) for s in range(3)])
    ratios = [finest_band_ratio(blur_lr(fields, s)) for s in (0.0, 0.5, 1.0)]
    assert ratios[0] > ratios[1] > ratios[2]
    camera = blur_lr(fields, 1.0)  # a "native" image: the camera blur at its own pixel size
    boxed = camera.reshape(3, 32, 4, 32, 4, 3).mean(axis=(2, 4)).astype(np.uint8)  # the same ground 4x coarser
    assert finest_band_ratio(boxed, margin=4) > finest_band_ratio(camera) + 0.5
    with pytest.raises(ValueError, match="flat"):
        finest_band_ratio(np.full((2, 32, 32, 3), 7, np.uint8))


def test_pairs_are_blurred_then_noised_and_checkpoints_remember_both(data_dir):
    split = load_split(data_dir, "train")
    sharp = make_pairs(split, 2)
    soft, noisy = degrade_pairs((sharp, sharp), 0.8, 0.0, seed=0)
    np.testing.assert_array_equal(soft.lr, blur_lr(sharp.lr, 0.8))
    np.testing.assert_array_equal(soft.hr, sharp.hr)
    first, second = degrade_pairs((sharp, sharp), 0.8, 2.0, seed=0)
    np.testing.assert_array_equal(first.lr, add_noise(blur_lr(sharp.lr, 0.8), 2.0, seed=0))
    assert not np.array_equal(first.lr, second.lr)  # each set its own noise
    payload = {"config": {"train": {"lr_blur": 0.65, "lr_noise": 2.0}}}
    assert trained_lr_blur(payload) == 0.65 and trained_lr_noise(payload) == 2.0
    assert trained_lr_blur({"config": {}}) == trained_lr_noise({}) == 0.0  # older checkpoints: crisp, clean LR


def test_noise_is_seeded_gaussian_grey_levels():
    tile = np.full((2, 32, 32, 3), 128, np.uint8)
    assert add_noise(tile, 0.0) is tile
    noisy = add_noise(tile, 3.0, seed=1)
    assert noisy.dtype == np.uint8 and abs(noisy.astype(float).std() - 3.0) < 0.1
    np.testing.assert_array_equal(noisy, add_noise(tile, 3.0, seed=1))
    assert not np.array_equal(noisy, add_noise(tile, 3.0, seed=2))
    with pytest.raises(ValueError, match="lr_noise"):
        add_noise(tile, -1.0)


def test_auto_blur_recovers_the_blur_that_made_the_lr_as_soft_as_the_hr():
    fields = np.stack([_field(s, 256) for s in range(4)])
    camera = blur_lr(fields, 1.0)  # HR: ground seen through a camera blur of 1 px
    boxed = camera.reshape(4, 64, 4, 64, 4, 3).mean(axis=(2, 4)).astype(np.uint8)  # its crisp x4 box average
    sigma = estimate_lr_blur(camera, boxed)
    assert 0.4 < sigma < 1.2  # a 1/f field's band ratios are its blur's: the LR gets about the HR's own
    assert abs(finest_band_ratio(blur_lr(boxed, sigma)) - finest_band_ratio(camera)) < 0.1
    assert estimate_lr_blur(camera, blur_lr(boxed, 3.0)) == 0.0  # already softer: nothing to add
