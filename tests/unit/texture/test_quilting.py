import numpy as np
import pytest
from PIL import Image
from texture_data import wrap_edge_ratio

from rockzoom.data.demo import render_field
from rockzoom.texture import patch_synthesis as ps
from rockzoom.texture.quilting import QuiltSource, quilt

SIZE = 96


@pytest.fixture(scope="module")
def field():
    """A 384 px procedural rock field cut into 16 tiles of 96 px: 12 train, 4 held out (RGB uint8)."""
    f = render_field(4 * SIZE, 4 * SIZE, seed=3)[..., :3]
    tiles = np.stack([f[y:y + SIZE, x:x + SIZE] for y in range(0, 4 * SIZE, SIZE) for x in range(0, 4 * SIZE, SIZE)])
    return tiles[:12], tiles[12:]


@pytest.fixture(scope="module")
def source(field):
    return QuiltSource.build(field[0], block=16, cell=4, stride=4, max_candidates=None)


def _view(a: np.ndarray, size: int = 12) -> np.ndarray:
    return np.asarray(Image.fromarray(a).resize((size, size), Image.BOX)).astype(np.float64)


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255.0**2 / np.mean((a - b) ** 2)))


def test_every_pixel_is_a_source_pixel_and_blocks_are_whole(field):
    # a source of distinct colours: every output pixel must be one of them, and an output block's pixels must keep
    # their source neighbours (horizontal pairs of the output found as pairs in the source, in some orientation)
    rng = np.random.default_rng(0)
    src = rng.integers(0, 256, (2, 64, 64, 3), dtype=np.uint8)
    source = QuiltSource.build(src, block=16, cell=4, stride=4, max_candidates=None)
    guide = np.asarray(Image.fromarray(field[1][0]).resize((48, 48)))
    out = quilt(guide, source, overlap=4, seed=0)
    assert out.shape == (48, 48, 3) and out.dtype == np.uint8
    colours = {tuple(p) for p in src.reshape(-1, 3)}
    assert all(tuple(p) in colours for p in out.reshape(-1, 3))
    pairs = set()
    for t in range(4):
        r = np.rot90(src, t, axes=(1, 2))
        for a in (r, r[:, :, ::-1]):
            pairs |= {(tuple(p), tuple(q)) for p, q in zip(a[:, :, :-1].reshape(-1, 3), a[:, :, 1:].reshape(-1, 3))}
    out_pairs = list(zip(out[:, :-1].reshape(-1, 3), out[:, 1:].reshape(-1, 3)))
    kept = np.mean([(tuple(p), tuple(q)) in pairs for p, q in out_pairs])
    assert kept > 0.8  # only pairs across a cut are new


def test_follows_the_guide_and_is_deterministic_for_a_seed(field, source):
    held = field[1]
    outs = [quilt(g, source, seed=0) for g in held]
    assert np.array_equal(quilt(held[0], source, seed=0), outs[0])
    assert not np.array_equal(quilt(held[0], source, seed=1), outs[0])
    for i, (g, o) in enumerate(zip(held, outs)):
        own = _psnr(_view(o), _view(g))
        others = [_psnr(_view(o), _view(h)) for j, h in enumerate(held) if j != i]
        assert own > max(others) + 3.0  # it follows its own guide, not just the texture's average


def test_no_data_blocks_are_never_used(field):
    src = field[0][:4].copy()
    masks = np.ones(src.shape[:3], bool)
    src[:, :, 48:] = (255, 0, 0)  # pure red marks the no-data half
    masks[:, :, 48:] = False
    source = QuiltSource.build(src, masks, block=16, cell=4, stride=4, max_candidates=None)
    red_guide = np.zeros((64, 64, 3), np.uint8)
    red_guide[...] = (255, 0, 0)
    out = quilt(red_guide, source, seed=0)
    assert not ((out[..., 0] == 255) & (out[..., 1] == 0) & (out[..., 2] == 0)).any()


def test_seamless_wraps_without_a_border(field, source):
    ratios = {s: np.mean([wrap_edge_ratio(quilt(g, source, seed=0, seamless=s)) for g in field[1]]) for s in (False, True)}
    # at the level of interior neighbour differences (the guides themselves do not tile), well below plain quilting's
    assert ratios[True] <= 1.5
    assert ratios[False] > 1.5 * ratios[True]


def test_synthesis_quilt_step_needs_banks_with_source_tiles_and_keeps_the_layout(field):
    train, held = field
    plain = ps.build_banks(train, levels=3, patch=5, bank_size=512)
    start = np.asarray(Image.fromarray(held[0]).resize((24, 24), Image.BOX).resize((SIZE, SIZE), Image.BICUBIC))
    with pytest.raises(ValueError, match="quilt_tiles"):
        ps.synthesize(start, plain, quilt=16)
    banks = ps.build_banks(train, levels=3, patch=5, bank_size=512, quilt_tiles=6)
    assert banks.quilt_images.shape == (6, SIZE, SIZE, 3)
    out = ps.synthesize(start, banks, seed=0, quilt=16, lock=8)
    assert out.shape == start.shape
    assert _psnr(_view(out, 32), _view(start, 32)) >= 22.0


def test_bank_file_keeps_the_source_tiles(tmp_path, field):
    banks = ps.build_banks(field[0], levels=2, patch=5, bank_size=64, quilt_tiles=3)
    banks.save(tmp_path / "b.pt")
    loaded = ps.PatchBanks.load(tmp_path / "b.pt")
    assert np.array_equal(loaded.quilt_images.numpy(), banks.quilt_images.numpy())
    assert loaded.quilt_masks.dtype == banks.quilt_masks.dtype and loaded.quilt_masks.shape == (3, SIZE, SIZE)


def test_bad_sizes_are_named(source):
    with pytest.raises(ValueError, match="smaller than the 16 px block"):
        quilt(np.zeros((12, 40, 3), np.uint8), source)
    with pytest.raises(ValueError, match="overlap"):
        quilt(np.zeros((40, 40, 3), np.uint8), source, overlap=16)
    with pytest.raises(ValueError, match="multiples of cell"):
        QuiltSource.build(np.zeros((1, 32, 32, 3), np.uint8), block=10, cell=4)
