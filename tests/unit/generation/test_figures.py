import numpy as np
import pytest
from PIL import Image

from rockzoom.generation.figures import overview_figure, pick_real
from rockzoom.superres.upscale import build_upscaler, upscale_tiled


def tiles(n, size, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


def test_pick_real_draws_only_complete_tiles_and_is_seeded():
    masks = np.ones((10, 8, 8), bool)
    masks[[1, 4, 7], 0, 0] = False
    picked = pick_real(tiles(10, 8), masks, 4, seed=3)
    assert len(picked) == 4 and not {1, 4, 7} & set(picked) and picked == sorted(picked)
    assert picked == pick_real(tiles(10, 8), masks, 4, seed=3)


def test_pick_real_falls_back_to_the_most_complete():
    masks = np.ones((3, 8, 8), bool)
    masks[0, :4] = False  # 50% valid
    masks[2, :1] = False  # 87.5% valid
    assert pick_real(tiles(3, 8), masks, 2, seed=0) == [1, 2]


def test_the_figure_shows_the_tiles_unchanged_and_the_crop_after_the_upscaler(tmp_path):
    real, generated = tiles(6, 32), list(tiles(3, 32, seed=1))
    masks = np.ones((6, 32, 32), bool)
    up = build_upscaler(method="lanczos", scale=4)
    out = tmp_path / "fig" / "overview.png"
    shown = overview_figure(real, masks, generated, up, out, n=2, crop=8, cell=32, seed=0)
    figure = np.asarray(Image.open(out).convert("RGB"))
    assert list(figure.shape[1::-1]) == shown["size"]

    def panel(i):
        p = shown["panels"][i]
        return figure[p["top"]:p["top"] + p["height"], p["left"]:p["left"] + p["width"]]

    first = shown["real_test_indices"][0]
    assert np.array_equal(panel(0)[:32, :32], real[first])  # real tiles 1:1
    assert np.array_equal(panel(1)[:32, :32], generated[0])
    crop = real[first][12:20, 12:20]
    assert np.array_equal(panel(2), crop.repeat(4, 0).repeat(4, 1))
    whole = upscale_tiled(up, real[first], out=np.empty((128, 128, 3), np.uint8))
    assert np.array_equal(panel(3), whole[48:80, 48:80])  # the same ground, upscaled with its context


def test_a_crop_larger_than_the_tile_shows_the_whole_tile(tmp_path):
    real = tiles(2, 32)
    up = build_upscaler(method="lanczos", scale=4)
    shown = overview_figure(real, np.ones((2, 32, 32), bool), list(tiles(1, 32)), up, tmp_path / "o.png", n=1,
                            crop=64, cell=32)
    assert shown["crop"] == 32 and shown["panels"][3]["height"] == 128


def test_no_real_tiles_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="no real test tiles"):
        overview_figure(tiles(0, 32), np.ones((0, 32, 32), bool), list(tiles(1, 32)),
                        build_upscaler(method="lanczos", scale=4), tmp_path / "o.png")
