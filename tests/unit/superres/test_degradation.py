"""The training LR's camera blur (sr.train.lr_blur): a plain Gaussian of LR pixels, and the band ratio that picks it;
its noise (lr_noise) and its JPEG blocks (lr_jpeg), and the block step that picks the quality."""
import numpy as np
import pytest
from scipy import ndimage

from rockzoom.data.store import load_split
from rockzoom.superres.data import make_pairs
from rockzoom.superres.degradation import (add_noise, block_step_ratio, blur_lr, compress_lr, estimate_lr_blur,
                                          estimate_lr_jpeg, finest_band_ratio, jpeg_qualities)
from rockzoom.superres.train import degrade_pairs, trained_lr_blur, trained_lr_jpeg, trained_lr_noise


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
    (blocky,) = degrade_pairs((sharp,), 0.8, 2.0, seed=0, lr_jpeg=70)  # JPEG last, as a camera writes its file
    qualities = jpeg_qualities(len(sharp.lr), 70, seed=0)
    assert qualities.min() >= 70 and qualities.max() <= 100 and len(set(qualities)) > 1  # from blocky to near clean
    np.testing.assert_array_equal(blocky.lr, compress_lr(first.lr, qualities))
    payload = {"config": {"train": {"lr_blur": 0.65, "lr_noise": 2.0}}}
    assert trained_lr_blur(payload) == 0.65 and trained_lr_noise(payload) == 2.0
    assert trained_lr_blur({"config": {}}) == trained_lr_noise({}) == 0.0  # older checkpoints: crisp, clean LR
    assert trained_lr_jpeg({"config": {"train": {"lr_jpeg": 90}}}) == 90 and trained_lr_jpeg({}) == 0


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


def test_jpeg_round_trip_draws_an_8_px_block_grid_that_a_lower_quality_strengthens():
    fields = np.stack([_field(s, 64) for s in range(4)])
    assert compress_lr(fields, 0) is fields
    assert abs(block_step_ratio(fields) - 1.0) < 0.05  # ground has no preferred phase
    ratios = [block_step_ratio(compress_lr(fields, q)) for q in (95, 75, 30)]
    assert 1.0 < ratios[0] < ratios[1] < ratios[2]
    out = compress_lr(fields, 75)
    assert out.shape == fields.shape and out.dtype == np.uint8
    mixed = compress_lr(fields, [0, 75, 0, 75])  # a quality per image, 0: left as it is
    np.testing.assert_array_equal(mixed[::2], fields[::2])
    np.testing.assert_array_equal(mixed[1::2], out[1::2])
    assert not jpeg_qualities(3, 0, seed=0).any()
    shifted = compress_lr(fields[:, 3:, 3:], 30)  # the grid starts at each image's own first pixel
    assert block_step_ratio(shifted) > 1.1
    for bad in (-1, 101, 50.5):
        with pytest.raises(ValueError, match="lr_jpeg"):
            compress_lr(fields, bad)


def test_auto_jpeg_gives_the_lr_the_hr_tiles_block_step():
    fields = np.stack([_field(s, 64) for s in range(6)])
    hr = compress_lr(np.stack([_field(s + 10, 64) for s in range(6)]), 70)  # tiles from a quality-70 source
    quality = estimate_lr_jpeg(hr, fields)
    assert 56 <= quality <= 84  # about the source's own quality
    assert block_step_ratio(compress_lr(fields, quality)) >= block_step_ratio(hr)
    assert estimate_lr_jpeg(fields, hr) == 0  # the LR already as blocky: nothing to add
