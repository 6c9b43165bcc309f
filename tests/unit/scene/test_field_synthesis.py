import numpy as np
import pytest
import torch

from rockzoom.data.demo import render_field
from rockzoom.scene import field_synthesis as fs

SMALL = fs.FieldSettings(coarse=0.25, factor=0.7, patch=5, pca_dims=8, coarse_iterations=2, fine_iterations=2)


@pytest.fixture(scope="module")
def source():
    return np.ascontiguousarray(render_field(96, 96, seed=5)[..., :3])


def _tensor(a):
    return torch.from_numpy(a.astype(np.float32)).permute(2, 0, 1)[None] / 127.5 - 1


def test_level_scales_reach_the_coarse_scale_in_steps_no_smaller_than_factor():
    for coarse, factor in ((1 / 8, 0.75), (0.25, 0.7), (1.0, 0.75), (0.3, 0.5)):
        s = fs.level_scales(coarse, factor)
        assert s[-1] == 1.0 and s[0] == pytest.approx(coarse)
        assert all(b / a <= 1 / factor + 1e-9 and b > a for a, b in zip(s, s[1:]))


@pytest.mark.parametrize("sigma", [0.0, 1.0])
def test_a_coherent_field_votes_the_source_verbatim(source, sigma):
    """Pixels copied together from one place come out exactly as the source (no blur inside a piece)."""
    src = _tensor(source)
    p, h, w = 5, 40, 50
    ws = source.shape[1]
    yy, xx = np.mgrid[:h, :w]
    field = torch.from_numpy((yy + 20) * ws + (xx + 10))
    out = fs.to_uint8(fs.vote(src, field, p, sigma))
    assert np.array_equal(out, source[20:20 + h, 10:10 + w])


def test_two_pieces_join_without_a_step_or_an_overshoot():
    """Across the join of two pieces, the vote blends: values stay between the pieces' and the step is spread."""
    src = np.zeros((40, 80, 3), np.uint8)
    src[:, :40] = 50
    src[:, 40:] = 200
    p, h, w = 7, 20, 30
    yy, xx = np.mgrid[:h, :w]
    left = (yy + 10) * 80 + (xx + 5)       # dark piece
    right = (yy + 10) * 80 + (xx + 45)     # bright piece
    field = torch.from_numpy(np.where(xx < 15, left, right))
    out = fs.to_uint8(fs.vote(_tensor(src), field, p, 1.5)).astype(int)[..., 0]
    assert out.min() >= 50 and out.max() <= 200
    assert np.all(out[:, :12] == 50) and np.all(out[:, 18:] == 200)  # away from the join: the pieces verbatim
    steps = np.abs(np.diff(out[h // 2]))
    assert steps.max() < 150 and np.count_nonzero(steps) >= 3  # the 150 step shared over several columns
    assert np.all(np.diff(out[h // 2]) >= 0)  # monotone: no ringing


def test_seeded_new_images_of_source_pixels_only(source):
    out_a = fs.synthesize_field(source, None, (48, 48), settings=SMALL, seed=1)
    out_b = fs.synthesize_field(source, None, (48, 48), settings=SMALL, seed=1)
    assert out_a.shape == (48, 48, 3) and out_a.dtype == np.uint8
    assert np.array_equal(out_a, out_b)
    exact = fs.synthesize_field(source, None, (48, 48), settings=fs.FieldSettings(
        **{**SMALL.__dict__, "sigma": 0.0}), seed=2)
    assert not np.array_equal(out_a, exact)
    colours = {tuple(c) for c in source.reshape(-1, 3)}
    assert all(tuple(c) in colours for c in exact.reshape(-1, 3))


def test_no_pixel_comes_from_no_data(source):
    src = source.copy()
    mask = np.ones(src.shape[:2], bool)
    src[:, 60:] = (255, 0, 0)  # no-data painted a colour the ground never has
    mask[:, 60:] = False
    out, field = fs.synthesize_field(src, mask, (48, 48), settings=SMALL, seed=0, return_field=True)
    red = (out[..., 0] > 200) & (out[..., 1] < 60) & (out[..., 2] < 60)
    assert not red.any()
    assert np.all(field.numpy() % src.shape[1] < 60 - SMALL.patch // 2)


def test_local_search_finds_the_exact_piece_near_a_rough_match(source):
    """A query that is a piece of the source, from a field off by up to the search radius: one local pass puts
    every pixel on its exact source patch (the field becomes one coherent piece)."""
    src = _tensor(source)
    level = fs.SourceLevel(src, torch.ones(1, 1, 96, 96), (48, 48), 5, 12, torch.Generator().manual_seed(0))
    h = w = 40
    yy, xx = np.mgrid[:h, :w]
    truth = torch.from_numpy((yy + 30) * 96 + (xx + 20))
    query = level.features(src[..., 30:30 + h, 20:20 + w])
    rng = np.random.default_rng(0)
    rough = truth + torch.from_numpy(rng.integers(-1, 2, (h, w)) * 96 + rng.integers(-1, 2, (h, w)))
    found = fs._local(query, level, rough, radius=1, jumps=0, gen=torch.Generator().manual_seed(0), chunk=500)
    inner = (slice(2, h - 2), slice(2, w - 2))  # the query's replicate-padded border patches differ from the source
    assert torch.equal(found[inner], truth[inner])


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="odd"):
        fs.FieldSettings(patch=6)
    with pytest.raises(ValueError, match="init"):
        fs.FieldSettings(init="blank")
    with pytest.raises(ValueError, match="no fully valid"):
        fs.synthesize_field(np.zeros((32, 32, 3), np.uint8), np.zeros((32, 32), bool), (16, 16), settings=SMALL)
