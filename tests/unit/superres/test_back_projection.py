import numpy as np
import pytest
import torch

from rockzoom.metrics.fidelity import evaluate
from rockzoom.models.registry import SR_NETS
from rockzoom.superres.back_projection import BackProjected, back_project, back_project_smooth
from rockzoom.superres.upscale import NetUpscaler, build_upscaler, upscale_tiled


def _box(x: np.ndarray, s: int) -> np.ndarray:
    h, w = x.shape[:2]
    return x.reshape(h // s, s, w // s, s, -1).mean((1, 3))


def test_back_projection_makes_the_box_average_the_input_exactly():
    gen = torch.Generator().manual_seed(0)
    lr = torch.rand(2, 3, 9, 7, generator=gen, dtype=torch.float64)
    lr[0, :, :3] = 1.0  # saturated blocks: every pixel under them must end at 1
    lr[1, :, :2] = 0.0
    sr = torch.rand(2, 3, 36, 28, generator=gen, dtype=torch.float64) * 1.4 - 0.2  # off in range and in mean
    out = back_project(sr, lr, 4)
    assert out.min() >= 0 and out.max() <= 1
    torch.testing.assert_close(torch.nn.functional.avg_pool2d(out, 4), lr, atol=1e-9, rtol=0)
    assert (out[0, :, :12] > 1 - 1e-9).all() and (out[1, :, :8] < 1e-9).all()


def test_back_projection_keeps_a_consistent_upscale_and_keeps_detail():
    gen = torch.Generator().manual_seed(1)
    sr = torch.rand(1, 3, 32, 32, generator=gen, dtype=torch.float64) * 0.5 + 0.25
    lr = torch.nn.functional.avg_pool2d(sr, 4)
    torch.testing.assert_close(back_project(sr, lr, 4), sr, atol=1e-12, rtol=0)
    # a brighter LR moves the upscale by the smooth correction only: its detail (the part within blocks) stays
    out = back_project(sr, lr + 0.05, 4)
    detail = lambda x: x - torch.nn.functional.avg_pool2d(x, 4).repeat_interleave(4, -2).repeat_interleave(4, -1)
    assert (detail(out) - detail(sr)).abs().max() < 0.05


def _block_edge_ratio(correction: torch.Tensor, s: int = 4) -> float:
    """Mean |horizontal step| of a correction across k x k block boundaries over that within blocks."""
    step = (correction[..., 1:] - correction[..., :-1]).abs()
    across = torch.zeros(step.shape[-1], dtype=torch.bool)
    across[s - 1::s] = True
    return float(step[..., across].mean() / step[..., ~across].mean())


def test_smooth_back_projection_is_consistent_and_draws_no_block_edges():
    gen = torch.Generator().manual_seed(2)
    hr = torch.nn.functional.avg_pool2d(torch.rand(1, 3, 80, 80, generator=gen, dtype=torch.float64), 5, 1, 2)
    hr = hr[..., 8:72, 8:72]  # a smooth field in (0, 1)
    lr = torch.nn.functional.avg_pool2d(hr, 4)
    sr = hr + 0.3 * (torch.rand(hr.shape, generator=gen, dtype=torch.float64) - 0.5)  # detail off the input's means
    smooth = back_project_smooth(sr, lr, 4)
    mse = ((torch.nn.functional.avg_pool2d(smooth, 4) - lr) ** 2).mean()
    assert 10 * torch.log10(1 / mse) > 40  # LR consistency: >= 40 dB
    assert _block_edge_ratio(smooth - sr) < 2  # 1.44: bicubic steps vary with the phase, no more
    assert _block_edge_ratio(back_project(sr, lr, 4) - sr) > 3  # 4.34: the exact projection's block shifts show


def test_back_projected_bicubic_box_averages_to_its_input():
    image = np.random.default_rng(0).random((20, 12, 3)).astype(np.float32)
    plain = build_upscaler(method="bicubic", scale=4)
    fixed = build_upscaler(method="bicubic", scale=4, back_project=True)
    assert isinstance(fixed, BackProjected) and fixed.name == "bicubic+bp" and fixed.scale == 4
    err_plain = np.abs(_box(plain.upscale(image), 4) - image).max()
    err_fixed = np.abs(_box(fixed.upscale(image), 4) - image).max()
    assert err_plain > 0.01 and err_fixed < 1e-5


def test_back_projected_net_tiles_without_seams():
    torch.manual_seed(0)
    net = NetUpscaler(SR_NETS.build("rlfn", scale=4), 4, device="cpu")  # receptive field: 15 LR px each side
    upscaler = BackProjected(net)
    image = np.random.default_rng(0).random((70, 54, 3)).astype(np.float32)
    whole = upscaler.upscale(image)
    tiled = upscale_tiled(upscaler, image, tile=24, overlap=16)  # 15 + the 1 px of the back-projection
    assert evaluate(tiled, whole, with_ssim=False)["psnr_pooled"] >= 60
    assert np.abs(_box(tiled, 4) - image).max() < 1e-5


@pytest.mark.parametrize("scale", [2, 3])
def test_other_scales(scale):
    gen = torch.Generator().manual_seed(scale)
    lr = torch.rand(1, 3, 5, 6, generator=gen, dtype=torch.float64)
    sr = torch.rand(1, 3, 5 * scale, 6 * scale, generator=gen, dtype=torch.float64)
    out = back_project(sr, lr, scale)
    torch.testing.assert_close(torch.nn.functional.avg_pool2d(out, scale), lr, atol=1e-9, rtol=0)
