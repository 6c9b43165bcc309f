"""The detail stage's start adjustment: colour matching onto comparable training tiles, and the smoothed start."""
import numpy as np
import pytest

from rockzoom.texture import colour_reference as cr
from rockzoom.texture import patch_synthesis as ps


def _tile(rng, low, high, size=64):
    return rng.integers(low, high, (size, size, 3)).astype(np.uint8)


def test_a_washed_out_start_takes_the_contrast_of_its_nearest_training_tiles():
    rng = np.random.default_rng(0)
    dark = np.stack([_tile(rng, 0, 120) for _ in range(4)])
    bright = np.stack([_tile(rng, 140, 256) for _ in range(4)])
    views, quantiles = cr.build_colour_reference(np.concatenate([dark, bright]))
    # grey, low contrast, nearer the bright tiles: its values spread to the bright tiles' range, order kept
    start = _tile(rng, 170, 200)
    out = cr.match_colours(start, views, quantiles, k=4)
    assert out.min() < 150 and out.max() > 245
    assert abs(float(out.mean()) - float(bright.mean())) < 3
    flat_in, flat_out = start.reshape(-1, 3), out.reshape(-1, 3)
    for c in range(3):  # monotone per channel: a brighter input pixel never becomes darker than a dimmer one
        order = np.argsort(flat_in[:, c], kind="stable")
        assert np.all(np.diff(flat_out[order, c].astype(int)) >= 0)


def test_equal_values_stay_equal_and_no_data_is_not_black_in_the_reference():
    rng = np.random.default_rng(1)
    images = np.stack([_tile(rng, 100, 200) for _ in range(3)])
    masks = np.ones(images.shape[:3], bool)
    images[0, :, :32] = 0  # no-data, stored black
    masks[0, :, :32] = False
    _, quantiles = cr.build_colour_reference(images, masks, min_valid=0.4)
    assert quantiles.min() >= 99  # the black no-data pixels never enter the quantiles
    flat = np.full((32, 32, 3), 150, np.uint8)
    out = cr.match_colours(flat, *cr.build_colour_reference(images, masks, min_valid=0.4))
    assert len(np.unique(out.reshape(-1, 3), axis=0)) == 1


def test_smoothed_start_removes_block_edges_and_keeps_the_coarse_view():
    blocks = np.kron(np.random.default_rng(2).integers(0, 256, (4, 4, 3)), np.ones((16, 16, 1))).astype(np.uint8)
    out = cr.smooth_to_view(blocks, 16)
    assert np.abs(np.diff(out.astype(int), axis=1)).max() < np.abs(np.diff(blocks.astype(int), axis=1)).max()
    diff = (cr.coarse_views(out[None], view=4) - cr.coarse_views(blocks[None], view=4)).numpy()
    assert 10 * np.log10(255.0**2 / np.mean(diff**2)) > 20  # random 0..255 blocks: the hardest case for bicubic


def test_synthesis_with_colour_match_needs_and_uses_the_banks_reference(tmp_path):
    rng = np.random.default_rng(3)
    train = np.stack([_tile(rng, 0, 256, 48) for _ in range(4)])
    banks = ps.build_banks(train, levels=2, factor=0.75, patch=5, bank_size=256, seed=0)
    banks.save(tmp_path / "b.pt")
    loaded = ps.PatchBanks.load(tmp_path / "b.pt")
    assert np.array_equal(loaded.colour_quantiles.numpy(), banks.colour_quantiles.numpy())
    start = np.full((48, 48, 3), 128, np.uint8)
    a = ps.synthesize(start, loaded, seed=0, colour_match=2, smooth_start=16, lock=None)
    assert a.shape == start.shape
    loaded.colour_views = loaded.colour_quantiles = None
    with pytest.raises(ValueError, match="colour reference"):
        ps.synthesize(start, loaded, seed=0, colour_match=2)


def test_strength_goes_part_of_the_way():
    rng = np.random.default_rng(4)
    ref = cr.build_colour_reference(np.stack([_tile(rng, 0, 256) for _ in range(3)]))
    start = _tile(rng, 100, 140)
    assert np.array_equal(cr.match_colours(start, *ref, k=3, strength=0.0), start)
    full = cr.match_colours(start, *ref, k=3).astype(float)
    half = cr.match_colours(start, *ref, k=3, strength=0.5).astype(float)
    assert np.abs(half - (full + start) / 2).max() <= 1.0
