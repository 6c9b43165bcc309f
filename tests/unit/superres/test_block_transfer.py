"""Block-matched residual transfer (rockzoom.superres.block_transfer): the known answer on a canvas of distinct
blocks, invalid blocks never used, the same choices tiled as whole, the residual's shaping to its output, and the
exemplar upscaler's blocks mode."""
import numpy as np
import pytest
import torch

from rockzoom.models.registry import SR_NETS
from rockzoom.superres.block_transfer import BlockBank, coarse_edges, feather, grid_starts, shape_residual
from rockzoom.superres.exemplar import ExemplarSettings, ExemplarUpscaler, exemplar_mem_mb, net_rendering
from rockzoom.superres.upscale import NetUpscaler


def _quadrants(levels=(80, 120, 160, 200), size=40, seed=0):
    """An (2 size)² rendering of four flat quadrants and its 'real ground' = rendering + a random residual."""
    rng = np.random.default_rng(seed)
    rendering = np.zeros((2 * size, 2 * size, 3), np.uint8)
    for i, v in enumerate(levels):
        y, x = divmod(i, 2)
        rendering[y * size:(y + 1) * size, x * size:(x + 1) * size] = (v, v - 20, v - 40)
    residual = rng.integers(-25, 26, rendering.shape)
    return rendering, (rendering + residual).astype(np.uint8), residual


def test_feather_and_grid():
    w = feather(40, 8)[..., 0]
    assert w.shape == (40, 40) and w[8:32, 8:32].min() == 1 and w.min() > 0
    np.testing.assert_array_equal(w, w[::-1, ::-1])
    assert grid_starts(100, 40, 32) == [0, 32, 60]
    assert grid_starts(96, 40, 28) == [0, 28, 56]
    assert grid_starts(30, 40, 32) == []


def test_each_block_gets_the_residual_of_the_block_rendered_like_it():
    rendering, source, residual = _quadrants()
    bank = BlockBank(source, rendering, np.ones(rendering.shape[:2], bool), scale=4, block=40, overlap=0, stride=40,
                     dims=3)
    swapped = np.concatenate([rendering[40:], rendering[:40]], 0).astype(np.float32)  # top and bottom halves swapped
    got = bank.residual_for(swapped)
    np.testing.assert_array_equal(got, np.concatenate([residual[40:], residual[:40]], 0))


def test_invalid_blocks_are_never_used():
    rendering, source, residual = _quadrants()
    mask = np.ones(rendering.shape[:2], bool)
    mask[45, 45] = False  # the bottom-right quadrant holds an invalid pixel
    bank = BlockBank(source, rendering, mask, scale=4, block=40, overlap=0, stride=40, dims=3)
    assert sorted(map(tuple, bank.origins)) == [(0, 0), (0, 40), (40, 0)]
    got = bank.residual_for(rendering[40:, 40:].astype(np.float32))
    assert not np.array_equal(got, residual[40:, 40:])
    with pytest.raises(ValueError, match="no wholly valid 40 px block"):
        BlockBank(source, rendering, np.zeros_like(mask), scale=4, block=40, overlap=0, stride=40, dims=3)
    with pytest.raises(ValueError, match="multiples of the scale"):
        BlockBank(source, rendering, mask, scale=4, block=42, overlap=0, stride=40, dims=3)


def test_a_grid_aligned_crop_with_context_makes_the_same_choices():
    rng = np.random.default_rng(1)
    canvas = rng.integers(0, 256, (160, 160, 3)).astype(np.uint8)
    rendering = np.clip(canvas.astype(int) + rng.integers(-30, 31, canvas.shape), 0, 255).astype(np.uint8)
    bank = BlockBank(canvas, rendering, np.ones(canvas.shape[:2], bool), scale=4, block=40, overlap=8, stride=4,
                     dims=8)
    image = rng.uniform(0, 255, (192, 192, 3)).astype(np.float32)
    whole = bank.residual_for(image)
    crop = bank.residual_for(image[32:192, 32:192])  # origin on the 32 px grid; 64 px context around the core
    np.testing.assert_array_equal(crop[64:96, 64:96], whole[96:128, 96:128])
    assert not np.array_equal(crop[:32, :32], whole[32:64, 32:64])  # the context itself differs near the crop edge


def _stripes(size=96, period=12):
    """An output of vertical stripes (every edge runs up and down) as (H, W, 3) float32 in 0-255."""
    x = np.arange(size, dtype=np.float32)
    row = 128 + 60 * np.sign(np.sin(2 * np.pi * x / period))
    return np.repeat(np.repeat(row[None, :, None], size, 0), 3, 2)


def test_shaping_smooths_the_residual_along_the_outputs_edges():
    out = _stripes()
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 10, out.shape).astype(np.float32)
    shaped = shape_residual(out, noise, None, orient_sigma=1.5, edge_power=0.0, edge_scale=0.0)
    core = (slice(16, -16), slice(16, -16))
    along = np.abs(np.diff(shaped, axis=0))[core].mean()  # across rows: along the vertical edges
    across = np.abs(np.diff(shaped, axis=1))[core].mean()
    assert along < 0.6 * across  # white noise has no direction (ratio 1); it now runs with the stripes
    raw = np.abs(np.diff(noise, axis=0))[core].mean() / np.abs(np.diff(noise, axis=1))[core].mean()
    assert 0.9 < raw < 1.1
    np.testing.assert_allclose((shaped ** 2)[core].mean(), (noise ** 2)[core].mean(), rtol=0.1)  # energy kept
    # a residual that already runs with the edges (constant along them, smooth across) comes back nearly unchanged
    x = np.arange(out.shape[1], dtype=np.float32)
    columns = np.broadcast_to(10 * np.sin(2 * np.pi * x / 32)[None, :, None] + np.array([0, 1, 2], np.float32),
                              out.shape).astype(np.float32)
    np.testing.assert_allclose(shape_residual(out, columns, None, orient_sigma=1.5, edge_power=0.0,
                                              edge_scale=0.0)[core], columns[core], atol=0.5)
    # off: the residual itself
    assert shape_residual(out, noise, None, orient_sigma=0.0, edge_power=0.0, edge_scale=0.0) is noise


def test_edge_power_moves_the_residual_onto_the_outputs_edges():
    out = _stripes(period=48)  # edges at x = 24, 48, 72
    rng = np.random.default_rng(1)
    noise = rng.normal(0, 10, out.shape).astype(np.float32)
    flat_source = np.full(out.shape[:2], float(np.median(coarse_edges(out))), np.float32)
    shaped = shape_residual(out, noise, flat_source, orient_sigma=0.0, edge_power=1.0, edge_scale=1.0)
    energy = (shaped ** 2).mean((0, 2))
    on, off = energy[[23, 24, 47, 48]].mean(), energy[[34, 35, 36, 37]].mean()
    before = (noise ** 2).mean((0, 2))
    assert on / off > 2 * before[[23, 24, 47, 48]].mean() / before[[34, 35, 36, 37]].mean()


def test_shaped_blocks_of_a_grid_aligned_crop_equal_the_whole_images():
    rng = np.random.default_rng(3)
    canvas = rng.integers(0, 256, (160, 160, 3)).astype(np.uint8)
    rendering = np.clip(canvas.astype(int) + rng.integers(-20, 21, canvas.shape), 0, 255).astype(np.uint8)
    bank = BlockBank(canvas, rendering, np.ones(canvas.shape[:2], bool), scale=4, block=40, overlap=8, stride=4,
                     dims=8, orient_sigma=1.5, edge_power=1.0)
    plain = BlockBank(canvas, rendering, np.ones(canvas.shape[:2], bool), scale=4, block=40, overlap=8, stride=4,
                      dims=8)
    image = rng.uniform(0, 255, (192, 192, 3)).astype(np.float32)
    whole = bank.residual_for(image)
    crop = bank.residual_for(image[32:192, 32:192])
    np.testing.assert_allclose(crop[64:96, 64:96], whole[96:128, 96:128], atol=1e-3)
    assert not np.allclose(whole, plain.residual_for(image), atol=1.0)


def test_exemplar_blocks_mode(tmp_path):
    torch.manual_seed(0)
    net = NetUpscaler(SR_NETS.build("rlfn", scale=4, n_blocks=1, n_feats=8), 4, device="cpu")
    rng = np.random.default_rng(2)
    canvas = rng.integers(40, 220, (128, 128, 3)).astype(np.uint8)
    valid = np.ones(canvas.shape[:2], bool)
    settings = ExemplarSettings(detail="blocks", block=16, block_overlap=4, block_stride=4, pca_dims=8,
                                back_project=False)
    up = ExemplarUpscaler(net, canvas, net_rendering(net, canvas), valid, settings)
    lr = canvas.reshape(32, 4, 32, 4, 3).mean((1, 3)).astype(np.float32) / 255  # the canvas's own LR view
    out, plain = up.upscale(lr), net.upscale(lr)
    assert out.shape == (128, 128, 3) and out.dtype == np.float32
    real = canvas / 255.0
    # on its own ground every block finds itself: the real canvas comes back, the plain net is far from it
    assert np.abs(out - real).max() < 2 / 255 and np.abs(plain - real).mean() > 10 / 255
    assert exemplar_mem_mb({"detail": "blocks"}) < exemplar_mem_mb({})
    assert exemplar_mem_mb({"detail": "blocks", "edge_power": 1.0}, 1024) > exemplar_mem_mb({"detail": "blocks"}, 1024)
    with pytest.raises(ValueError, match="detail must be field or blocks"):
        ExemplarSettings(detail="tiles")
    with pytest.raises(ValueError, match="block_overlap"):
        ExemplarSettings(block=16, block_overlap=16)
    with pytest.raises(ValueError, match="orient_sigma and edge_power"):
        ExemplarSettings(edge_power=-1)
