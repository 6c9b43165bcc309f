"""The layout floor of the detail stage: every result keeps its start's coarse view within min_layout_db."""
import numpy as np
import pytest
from texture_data import wrap_edge_ratio

from rockzoom.data.demo import render_field
from rockzoom.texture import patch_synthesis as ps

SIZE = 96


@pytest.fixture(scope="module")
def tiles():
    f = render_field(2 * SIZE, 2 * SIZE, seed=5)[..., :3]
    return [np.ascontiguousarray(f[y:y + SIZE, x:x + SIZE]) for y in (0, SIZE) for x in (0, SIZE)]


def test_layout_psnr_is_the_psnr_of_the_box_views():
    a = np.zeros((64, 64, 3), np.uint8)
    b = a.copy()
    b[:8, :8] = 80  # one 8 px cell of the 1/8 view (8 x 8 cells) differs by 80
    expected = 10 * np.log10(255.0**2 / (80.0**2 / 64))
    assert ps.layout_psnr(b, a) == pytest.approx(expected, abs=1e-4)
    assert ps.layout_psnr(a, a) == float("inf")
    # detail that averages out inside a cell leaves the layout untouched
    checker = np.where((np.indices((64, 64)).sum(0) % 2)[..., None], 140, 100).astype(np.uint8).repeat(3, 2)
    assert ps.layout_psnr(checker, np.full_like(checker, 120)) == float("inf")
    # a start of another size is compared at the result's view
    assert ps.layout_psnr(b, np.zeros((16, 16, 3), np.uint8)) == pytest.approx(expected, abs=1e-4)


def test_hold_layout_lifts_a_drifted_result_to_the_floor_and_no_further(tiles):
    start, other = tiles[0], tiles[1]
    drifted = np.clip(other.astype(np.int16) + 30, 0, 255).astype(np.uint8)  # another layout, brighter
    before = ps.layout_psnr(drifted, start)
    assert before < 18
    held = ps.hold_layout(drifted, start, min_db=24.0)
    after = ps.layout_psnr(held, start)
    assert 24.0 <= after < 25.0  # just enough: the rest of the result is left as it was
    # only the coarse view moved: the detail (result minus its own blurred self) is the drifted one's
    def detail(a):
        v = ps._area_view(a, (SIZE // 8, SIZE // 8))
        return a.astype(np.float64) - ps._to_uint8(ps._resize(v / 127.5 - 1, (SIZE, SIZE))).astype(np.float64)
    assert np.abs(detail(held) - detail(drifted)).mean() < 0.25 * np.abs(detail(drifted)).mean()
    np.testing.assert_array_equal(ps.hold_layout(held, start, min_db=24.0), held)  # already there: unchanged


def test_synthesize_with_a_floor_keeps_every_start_layout(tiles):
    banks = ps.build_banks(np.stack(tiles[1:]), None, levels=3, factor=0.75, patch=5, bank_size=512, seed=0,
                           quilt_tiles=0)
    start = tiles[0]
    free = ps.synthesize(start, banks, seed=0, lock=None)
    floor = ps.layout_psnr(free, start) + 4.0
    held = ps.synthesize(start, banks, seed=0, lock=None, min_layout_db=floor)
    assert ps.layout_psnr(held, start) >= floor
    seamless = ps.synthesize(start, banks, seed=0, lock=None, seamless=True, min_layout_db=floor)
    assert wrap_edge_ratio(seamless) <= 1.5  # the correction wraps around too
