"""The detail stage's sizes follow its caps (bank size, bank tiles, quilting tiles and candidates), never the number
of training tiles; the declared job memory follows the settings."""
import inspect

import numpy as np
import pytest

from rockzoom.texture import colour_reference as cr
from rockzoom.texture import memory
from rockzoom.texture import patch_synthesis as ps
from rockzoom.texture.memory import banks_mem_mb, detail_mem_mb
from rockzoom.texture.quilting import QuiltSource

SIZE = 48


def _flat_tiles(n: int) -> np.ndarray:
    """n tiles of one flat grey each (tile i has grey level 10 + 20 i), so a patch tells which tile it came from."""
    return np.stack([np.full((SIZE, SIZE, 3), 10 + 20 * i, np.uint8) for i in range(n)])


@pytest.mark.parametrize("n", [3, 12])
def test_bank_rows_and_sources_follow_the_caps_not_the_tile_count(n):
    images = _flat_tiles(n)
    banks = ps.build_banks(images, levels=2, factor=0.75, patch=5, bank_size=64, seed=0, margin=1, max_tiles=4,
                           quilt_tiles=2)
    used = min(n, 4)
    assert [len(v) for v in banks.values] == [64, 64]  # bank_size rows per level, whatever n
    assert banks.info["n_images"] == n and banks.info["n_bank_images"] == used
    assert len(banks.colour_views) == len(banks.colour_quantiles) == used
    assert tuple(banks.quilt_images.shape) == (2, SIZE, SIZE, 3)
    # the patches come from the picked tiles only: as many distinct greys as tiles drawn from
    greys = {round(float(v)) for v in ((banks.values[-1][:, 0] + 1) * 127.5)}
    chosen = {10 + 20 * int(i) for i in ps.pick_tiles(n, 4, 0)}
    assert greys == chosen and len(chosen) == used


def test_a_small_tree_gives_fewer_rows_than_the_bank_size():
    banks = ps.build_banks(_flat_tiles(1), levels=1, factor=0.75, patch=5, bank_size=10_000, seed=0, margin=0)
    assert len(banks.values[0]) == (SIZE - 4) ** 2  # every qualifying position once, no repeats


def test_quilting_candidates_follow_their_cap():
    rng = np.random.default_rng(0)
    src = rng.integers(0, 256, (3, 64, 64, 3), dtype=np.uint8)
    every = QuiltSource.build(src, block=16, cell=4, stride=4, max_candidates=None)
    assert len(every.where) == 8 * 3 * 13 * 13  # 13 x 13 block positions per tile, 8 orientations
    capped = QuiltSource.build(src, block=16, cell=4, stride=4, max_candidates=500)
    assert len(capped.where) == len(capped.features) == 500
    assert len({tuple(w) for w in capped.where.tolist()}) == 500  # drawn without repeats
    banks = ps.build_banks(src, levels=1, factor=0.75, patch=5, bank_size=16, seed=0, quilt_tiles=3)
    out = ps.synthesize(src[0], banks, seed=0, quilt=16, quilt_candidates=300)
    assert out.shape == src[0].shape
    assert [len(s.where) for s in banks._quilt_sources.values()] == [300]


def test_declared_memory_follows_the_settings():
    detail = {"banks": {"levels": 9, "factor": 0.75, "patch": 5, "bank_size": 16384, "quilt_tiles": 256,
                        "max_tiles": 2048},
              "synthesis": {"quilt": 16}}
    base_banks, base_detail = banks_mem_mb(detail, 256), detail_mem_mb(detail, 256)
    bigger = {"banks": {**detail["banks"], "bank_size": 4 * 16384}, "synthesis": detail["synthesis"]}
    assert banks_mem_mb(bigger, 256) > base_banks and detail_mem_mb(bigger, 256) > base_detail
    no_quilt = {"banks": {**detail["banks"], "quilt_tiles": 0}, "synthesis": {"quilt": None}}
    assert detail_mem_mb(no_quilt, 256) < base_detail
    assert banks_mem_mb(detail, 512) > base_banks


def test_the_memory_model_uses_the_stage_constants():
    assert memory.COLOUR_FLOATS == 3 * (cr.VIEW ** 2 + cr.QUANTILES)
    assert inspect.signature(ps.synthesize).parameters["quilt_candidates"].default == memory.QUILT_CANDIDATES
