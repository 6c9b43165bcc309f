import numpy as np
import pytest

from rockzoom.data.demo import render_field
from rockzoom.scene import novelty
from rockzoom.scene.ground import GroundIndex, pick_windows


@pytest.fixture(scope="module")
def field():
    return np.ascontiguousarray(render_field(192, 128, seed=2)[..., :3])


def _index(field, size=64, drop=()):
    """The field cut into size px samples (row-major), some dropped, as a ground index at survey offset 1000 px."""
    tiles, pos = [], []
    for y in range(0, field.shape[0], size):
        for x in range(0, field.shape[1], size):
            if (y, x) in drop:
                continue
            tiles.append(field[y:y + size, x:x + size])
            pos.append((1000 + y, 2000 + x))
    tiles = np.stack(tiles)
    return GroundIndex.from_arrays(tiles, np.ones(tiles.shape[:3], bool), np.array(pos))


def test_a_window_across_sample_borders_is_the_ground(field):
    ground = _index(field)
    assert ground.shape == (128, 192)
    img, mask = ground.window(30, 50, 80)
    assert mask.all() and np.array_equal(img, field[30:110, 50:130])


def test_missing_samples_are_no_data_and_windows_avoid_them(field):
    ground = _index(field, drop=[(0, 64)])
    img, mask = ground.window(0, 0, 128)
    assert not mask[:64, 64:].any() and mask[64:].all() and mask[:64, :64].all()
    assert not img[:64, 64:].any()
    for y, x in pick_windows(ground, 64, 10, min_valid=1.0, grid=16, seed=0):
        assert ground.window(y, x, 64)[1].all()
        assert not (y < 64 and x + 64 > 64 and x < 128)  # never over the missing sample
    # seeded
    assert pick_windows(ground, 64, 5, seed=3) == pick_windows(ground, 64, 5, seed=3)


def test_nearest_window_distance_is_zero_for_a_cut_in_any_orientation(field):
    cut = field[32:96, 64:128]
    turned = np.ascontiguousarray(np.rot90(cut, 1)[:, ::-1])
    other = np.ascontiguousarray(render_field(128, 128, seed=9)[:64, :64, :3])
    d = novelty.nearest_window_distances(np.stack([cut, turned, other]), field, grid=4, factor=2, band=48)
    assert d[0] < 1e-6 and d[1] < 1e-6 and d[2] > 5


def test_windows_touching_no_data_do_not_count(field):
    cut = field[32:96, 64:128]
    mask = np.ones(field.shape[:2], bool)
    mask[60, 100] = False  # one missing pixel inside the only exact window
    d = novelty.nearest_window_distances(cut[None], field, mask, grid=4, factor=2)
    assert d[0] > 1


def test_copy_verdict_and_pairwise():
    v = novelty.copy_verdict(np.array([1.0, 10.0, 20.0, 30.0]), np.arange(5.0, 105.0))
    assert v["threshold"] == pytest.approx(np.percentile(np.arange(5.0, 105.0), 5))
    assert v["share_closer"] == 0.25
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 255, (3, 16, 16, 3)).astype(np.uint8)
    assert novelty.pairwise_min_distance(imgs) > 30
    imgs[2] = np.rot90(imgs[0], 2)
    assert novelty.pairwise_min_distance(imgs) == 0.0


def test_largest_piece_counts_pixels_copied_together():
    h, w, ws = 10, 12, 100
    yy, xx = np.mgrid[:h, :w]
    one = (yy + 5) * ws + (xx + 7)
    assert novelty.largest_piece(one, ws) == h * w
    two = np.where(xx < 4, one, (yy + 50) * ws + (xx + 20))
    assert novelty.largest_piece(two, ws) == h * 8
    noise = np.random.default_rng(0).integers(0, ws * ws, (h, w))
    assert novelty.largest_piece(noise, ws) <= 2
