import numpy as np
import pytest
import torch
from PIL import Image
from texture_data import wrap_edge_ratio

from rockzoom.data.demo import render_field
from rockzoom.texture import patch_synthesis as ps

SIZE = 96
BANK = dict(levels=4, factor=0.75, patch=5, bank_size=2048, seed=0)


@pytest.fixture(scope="module")
def field():
    """A 384 px procedural rock field cut into 16 tiles of 96 px: 12 train, 4 held out (RGBA uint8)."""
    f = render_field(4 * SIZE, 4 * SIZE, seed=3)
    tiles = np.stack([f[y:y + SIZE, x:x + SIZE] for y in range(0, 4 * SIZE, SIZE) for x in range(0, 4 * SIZE, SIZE)])
    return tiles[:12], tiles[12:]


@pytest.fixture(scope="module")
def banks(field):
    train, _ = field
    return ps.build_banks(train[..., :3], train[..., 3] > 0, **BANK)


def _view(a: np.ndarray, size: int = 32) -> np.ndarray:
    return np.asarray(Image.fromarray(a).resize((size, size), Image.BOX)).astype(np.float64)


def _start(tile: np.ndarray) -> np.ndarray:
    """The layout a coarse generator gives: the tile's 32 px view brought back to full size (blurry)."""
    small = Image.fromarray(np.ascontiguousarray(tile[..., :3])).resize((32, 32), Image.BOX)
    return np.asarray(small.resize((tile.shape[1], tile.shape[0]), Image.BICUBIC))


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255.0**2 / np.mean((a - b) ** 2)))


def test_deterministic_for_a_seed(field, banks):
    start = _start(field[1][0])
    a = ps.synthesize(start, banks, seed=1)
    b = ps.synthesize(start, banks, seed=1)
    c = ps.synthesize(start, banks, seed=2)
    assert a.dtype == np.uint8 and a.shape == start.shape
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_keeps_the_layout_and_adds_detail(field, banks):
    tile = field[1][1]
    start = _start(tile)
    out = ps.synthesize(start, banks, seed=0)
    assert _psnr(_view(out), _view(start)) >= 22.0
    # detail: more high-frequency energy than the blurry start (neighbour differences)
    def hf(a):
        return np.abs(np.diff(a.astype(np.float64), axis=1)).mean()
    assert hf(out) > 1.5 * hf(start)


def test_out_size(field, banks):
    start = _start(field[1][2])
    out = ps.synthesize(start, banks, seed=0, out_size=(80, 112))
    assert out.shape == (80, 112, 3)


def test_seamless_tiles_without_a_border(field, banks):
    # a start whose opposite edges differ strongly: a left-to-right brightness ramp over the texture
    tile = field[1][3][..., :3].astype(np.float64)
    ramp = np.linspace(0.6, 1.4, SIZE)[None, :, None]
    start = _start(np.clip(tile * ramp, 0, 255).astype(np.uint8))
    plain = ps.synthesize(start, banks, seed=0)
    seamless = ps.synthesize(start, banks, seed=0, seamless=True)
    assert wrap_edge_ratio(seamless) <= 1.5
    assert wrap_edge_ratio(plain) > wrap_edge_ratio(seamless)
    # the layout survives, less the ramp that periodic_component takes out (it cannot tile)
    assert _psnr(_view(seamless), _view(start)) >= 16.0


def test_bank_save_load_round_trip(tmp_path, banks):
    path = tmp_path / "sub" / "banks.pt"
    banks.save(path)
    assert not [p for p in path.parent.iterdir() if p.name != "banks.pt"]  # no temp file left behind
    loaded = ps.PatchBanks.load(path)
    assert (loaded.levels, loaded.factor, loaded.patch, loaded.info) == (banks.levels, banks.factor, banks.patch,
                                                                         banks.info)
    for a, b in zip(loaded.keys + loaded.values, banks.keys + banks.values):
        assert torch.equal(a, b)
    assert torch.load(path, weights_only=True)["levels"] == banks.levels


def test_bank_shapes_and_sizes(banks):
    assert len(banks.keys) == len(banks.values) == BANK["levels"]
    for k, v in zip(banks.keys, banks.values):
        assert k.shape == v.shape == (BANK["bank_size"], 3 * 5 * 5)
        assert float(v.abs().max()) <= 1.0
        assert not torch.equal(k, v)  # keys are the blurred level


def test_patches_touching_no_data_never_enter_the_bank():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (2, 32, 48, 3), dtype=np.uint8)
    masks = np.ones((2, 32, 48), bool)
    masks[:, :, 30:] = False  # right part no-data
    masks[1, 10:14, 5:9] = False  # a hole
    bank = ps.build_banks(img, masks, levels=2, factor=0.75, patch=5, bank_size=400, seed=0, margin=0)
    values = bank.values[-1].reshape(-1, 3, 5, 5)  # finest level: the images themselves
    # every fully valid patch of the originals, under the 8 flips / quarter turns
    t = torch.from_numpy(img).permute(0, 3, 1, 2).float() / 127.5 - 1
    valid = []
    for i in range(2):
        m = torch.from_numpy(masks[i]).float()[None, None]
        ok = (-torch.nn.functional.max_pool2d(-m, 5, stride=1))[0, 0].flatten() > 0.5
        patches = torch.nn.functional.unfold(t[i:i + 1], 5)[0].T[ok].reshape(-1, 3, 5, 5)
        for k in range(8):
            q = torch.rot90(patches, k % 4, dims=(-2, -1))
            valid.append(torch.flip(q, dims=(-1,)) if k >= 4 else q)
    valid = torch.cat(valid).reshape(-1, 75)
    d = torch.cdist(values.reshape(-1, 75), valid, compute_mode="donot_use_mm_for_euclid_dist").min(1).values
    assert float(d.max()) < 1e-4


def test_nearest_completeness_uses_the_unused_key():
    keys = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
    queries = torch.tensor([[0.0, 0.0], [0.01, 0.0], [0.45, 0.0]])  # the last is a bit nearer key 0
    assert ps.nearest(queries, keys, alpha=None).tolist() == [0, 0, 0]
    # key 0 has a near-exact query, so its distances are divided by ~alpha; key 1's only by its own minimum
    assert ps.nearest(queries, keys, alpha=0.005).tolist() == [0, 0, 1]
    many = torch.randn(64, 8, generator=torch.Generator().manual_seed(0))
    assert torch.equal(ps.nearest(many, many, alpha=0.005, chunk=7), torch.arange(64))


def test_too_many_levels_for_the_image_size_is_named():
    ps.check_levels(256, levels=9, factor=0.75, patch=5)  # coarsest 26 px >= 9 px: fine
    with pytest.raises(ValueError, match=r"9 levels at factor 0.75 .* 64 px images 6 px"):
        ps.check_levels(64, levels=9, factor=0.75, patch=5)
    small = np.full((2, 64, 64, 3), 128, np.uint8)
    with pytest.raises(ValueError, match="lower the levels"):
        ps.build_banks(small, levels=9, patch=5, bank_size=16)
    assert ps.build_banks(small, levels=6, patch=5, bank_size=16).levels == 6  # 64 * 0.75^5 = 15 px
