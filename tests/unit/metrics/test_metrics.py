import math

import numpy as np
import pytest

from rockzoom.metrics import fidelity as metrics
from rockzoom.metrics import spectrum


def _img(n=2, s=32, seed=0):
    return np.random.default_rng(seed).integers(20, 230, size=(n, s, s, 3), dtype=np.uint8)


def test_psnr_from_mse_hand_values():
    assert metrics.psnr_from_mse(255.0**2) == pytest.approx(0.0)
    assert metrics.psnr_from_mse(100.0) == pytest.approx(10 * math.log10(65025 / 100))  # 28.1308 dB
    assert metrics.psnr_from_mse(0.0) == math.inf


def test_constant_offset_rgb_and_y():
    target = _img()
    pred = target.astype(np.int16) + 10
    r = metrics.evaluate(pred.astype(np.uint8), target)
    assert r["n"] == 2
    assert r["psnr_pooled"] == pytest.approx(28.1308, abs=1e-3)
    assert r["psnr_mean"] == pytest.approx(28.1308, abs=1e-3)
    # Y error = 10 * (65.481 + 128.553 + 24.966) / 255 = 8.5882 -> MSE 73.757
    assert r["psnr_y_pooled"] == pytest.approx(10 * math.log10(65025 / (10 * 219 / 255) ** 2), abs=1e-6)


def test_float_input_is_scaled_not_rounded():
    target = _img()
    pred = target.astype(np.float64) / 255 + 0.5 / 255  # half a grey level
    r = metrics.evaluate(pred, target)
    assert r["psnr_pooled"] == pytest.approx(10 * math.log10(65025 / 0.25), abs=1e-6)


def test_pooled_differs_from_mean_of_images():
    target = np.full((2, 16, 16, 3), 100, np.uint8)
    pred = target.copy()
    pred[0] += 10  # mse 100
    pred[1] += 20  # mse 400
    r = metrics.evaluate(pred, target)
    assert r["psnr_pooled"] == pytest.approx(metrics.psnr_from_mse(250.0))
    mean = (metrics.psnr_from_mse(100.0) + metrics.psnr_from_mse(400.0)) / 2
    assert r["psnr_mean"] == pytest.approx(mean)
    assert r["psnr_ci_low"] <= mean <= r["psnr_ci_high"]


def test_masked_and_border_pixels_are_ignored():
    target = _img(n=1, s=32)
    pred = target.copy()
    pred[0, :, :4] = 0  # wrong only in the first 4 columns
    mask = np.ones((1, 32, 32), bool)
    mask[0, :, :4] = False
    r = metrics.evaluate(pred, target, mask)
    assert r["psnr_pooled"] == math.inf
    assert r["ssim"] == pytest.approx(1.0)
    assert metrics.evaluate(pred, target, border=4)["psnr_pooled"] == math.inf
    assert metrics.evaluate(pred, target, border=3)["psnr_pooled"] < 40


def test_fully_masked_image_is_skipped_and_counted():
    target = _img(n=2)
    mask = np.ones((2, 32, 32), bool)
    mask[1] = False
    r = metrics.evaluate(target, target, mask)
    assert (r["n"], r["n_empty"]) == (1, 1)
    with pytest.raises(ValueError, match="no valid pixels"):
        metrics.evaluate(target, target, np.zeros_like(mask))


def test_ssim_identical_and_noisy():
    target = _img(n=1, s=48)
    assert metrics.evaluate(target, target)["ssim"] == pytest.approx(1.0, abs=1e-6)
    def noisy(sigma):
        noise = np.random.default_rng(1).normal(0, sigma, target.shape)
        return np.clip(target + noise, 0, 255).astype(np.uint8)

    assert metrics.evaluate(noisy(25), target)["ssim"] < metrics.evaluate(noisy(5), target)["ssim"] < 0.999


def test_ssim_of_flat_images_matches_the_formula():
    # flat images: variance terms vanish, SSIM = (2 a b + C1) / (a^2 + b^2 + C1) with C1 = (0.01 * 255)^2
    a, b, c1 = 100.0, 140.0, (0.01 * 255) ** 2
    r = metrics.evaluate(np.full((1, 16, 16, 3), a, np.uint8), np.full((1, 16, 16, 3), b, np.uint8))
    assert r["ssim"] == pytest.approx((2 * a * b + c1) / (a * a + b * b + c1), abs=1e-4)  # float32 window


def test_shape_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match="differ in shape"):
        metrics.evaluate(_img(s=32), _img(s=16))
    with pytest.raises(ValueError, match="mask"):
        metrics.evaluate(_img(), _img(), np.ones((2, 8, 8), bool))


def _blur(images):
    from PIL import Image, ImageFilter

    return np.stack([np.asarray(Image.fromarray(im).filter(ImageFilter.GaussianBlur(2))) for im in images])


def test_texture_measures():
    target = _img(n=2, s=64)
    blurred = _blur(target)
    assert spectrum.hf_energy_ratio(target, target) == pytest.approx(1.0)
    assert spectrum.hf_energy_ratio(blurred, target) < 0.2
    assert spectrum.hf_energy_ratio(target, blurred) > 5
    assert spectrum.spectrum_distance(target, target) == pytest.approx(0.0)
    assert spectrum.spectrum_distance(blurred, target) > 3.0
    freqs, power = spectrum.radial_power_spectrum(target)
    assert freqs.shape == power.shape == (32,)
    assert 0 < freqs[0] < freqs[-1] < 0.5
    # white noise has a flat spectrum: high and low bands within a factor of 2
    assert 0.5 < power[-4:].mean() / power[4:8].mean() < 2.0


def test_stationary_w2_known_answers():
    from rockzoom.metrics.spectrum import stationary_w2

    rng = np.random.default_rng(0)
    a = rng.uniform(0.2, 0.8, (4, 32, 32, 3))
    assert stationary_w2(a, a) == pytest.approx(0.0, abs=1e-9)
    mean = a.mean(axis=(1, 2), keepdims=True)
    damped = mean + 0.25 * (a - mean)  # the same fields with 1/4 of their amplitude: every spectrum scaled by 1/16
    variance = ((255 * (a - mean)) ** 2).mean()
    assert stationary_w2(damped, a) == pytest.approx((1 - 0.25) ** 2 * variance, rel=1e-9)
    shifted = np.roll(a, (5, 7), axis=(1, 2))  # a circular shift keeps every power spectrum
    assert stationary_w2(shifted, a) == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError, match="differ in image shape"):
        stationary_w2(a, a[:, :16])
