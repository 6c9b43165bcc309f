"""The realism judges and their positive controls: known answers on the demo's procedural rock tiles."""
import numpy as np
import pytest

from rockzoom.data.demo import render_field
from rockzoom.metrics import controls, judges

CNN = {"crop": 64, "steps": 60, "batch": 16, "widths": (24, 48, 72), "stem": 4}


@pytest.fixture(scope="module")
def tiles():
    """48 complete 128 px tiles of one procedural rock field, shuffled (two halves sample the same ground)."""
    size, nx, ny = 128, 8, 6
    field = render_field(nx * size, ny * size, 4)[..., :3]
    cut = np.stack([field[y * size:(y + 1) * size, x * size:(x + 1) * size] for y in range(ny) for x in range(nx)])
    return cut[np.random.default_rng(0).permutation(len(cut))]


def test_texture_judge_is_at_chance_for_one_ground_and_sees_shuffled_blocks_and_blur(tiles):
    a, b = tiles[:24], tiles[24:]
    judge = judges.Judge(b, {"families": ["texture"], "texture": {"repeats": 5}})
    same = judge.score(a)["texture"]
    assert abs(same["score"] - 0.5) <= 0.2 and same["ci_low"] <= 0.5 <= same["ci_high"], same
    assert same["n_real"] == same["n_fake"] == 24
    for damaged in (controls.block_shuffle(a), controls.blur(a)):
        r = judge.score(damaged)["texture"]
        assert r["score"] >= 0.9 and r["ci_low"] > 0.5, r
    assert judge.score(a)["texture"]["score"] == same["score"]  # seeded: the same answer twice


def test_orientation_stats_known_answers():
    """Straight stripes are perfectly oriented (coherence 1 at every scale and window); white noise has no dominant
    direction once the window spans many pixels; a quarter turn swaps x and y and leaves every statistic as it was."""
    x = np.arange(64)
    stripes = np.tile(np.sin(2 * np.pi * x / 16), (64, 1))
    per = 6  # 5 quantiles and the energy-weighted mean per (gradient scale, window)
    s = np.array(judges._orientation_stats(stripes))
    assert s.shape == (len(judges.ORIENTATION_GRADIENTS) * len(judges.ORIENTATION_WINDOWS) * per,)
    np.testing.assert_allclose(s, 1.0, atol=1e-4)  # up to the 1e-9 guard of the energy
    noise = np.random.default_rng(0).normal(size=(64, 64))
    n = np.array(judges._orientation_stats(noise, grad_sigmas=(1.0,), windows=(8.0,)))
    assert n[2] < 0.3 and n[5] < 0.3, n  # median and weighted mean
    np.testing.assert_allclose(judges._orientation_stats(np.rot90(noise)), judges._orientation_stats(noise),
                               rtol=1e-9, atol=1e-12)
    images = np.random.default_rng(1).integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    with_, without = judges.texture_features(images), judges.texture_features(images, orientation=False)
    assert with_.shape[1] - without.shape[1] == s.size


def test_cnn_judge_views_and_family_max(tiles):
    a, b = tiles[:24], tiles[24:]
    judge = judges.Judge(b, {"families": ["cnn"], "cnn": {**CNN, "views": ["full", "highpass"]}})
    same = judge.score(a)["cnn"]
    assert same["score"] == max(v["score"] for v in same["views"].values()) and same["view"] in ("full", "highpass")
    assert abs(same["score"] - 0.5) <= 0.25, same  # the max of two views at chance
    for damaged in (controls.block_shuffle(a), controls.blur(a)):
        r = judge.score(damaged)["cnn"]
        assert r["score"] >= 0.9, r


def test_groups_keep_a_tile_and_its_twin_in_one_fold():
    labels = np.r_[np.ones(10, int), np.zeros(10, int)]
    groups = np.r_[np.arange(10), np.arange(10)]  # candidate i is the twin of reference tile i
    for seed in range(3):
        for test in judges._folds(labels, groups, seed):
            assert set(groups[test][labels[test] == 1]) == set(groups[test][labels[test] == 0])


def test_power_and_headline():
    ctl = {"blur": {"texture": {"score": 0.95}, "cnn": {"score": 0.99}},
           "seam": {"texture": {"score": 0.97}, "cnn": {"score": 0.85}}}
    powered = judges.power(ctl)
    assert powered == {"cnn": False, "texture": True}
    row = {"texture": {"score": 0.6, "ci_low": 0.5, "ci_high": 0.7}, "cnn": {"score": 0.9, "ci_low": 0.8,
                                                                          "ci_high": 0.95}}
    assert judges.headline(row, powered)["judge"] == "texture"  # the CNN has no power this run
    assert judges.headline(row, {"cnn": True, "texture": True})["score"] == 0.9


def test_cut_tiles_and_box_down():
    images = np.arange(2 * 8 * 8 * 3, dtype=np.uint8).reshape(2, 8, 8, 3)
    cuts, groups = judges.cut_tiles(images, 4)
    assert cuts.shape == (8, 4, 4, 3) and groups.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    assert np.array_equal(cuts[1], images[0, :4, 4:]) and np.array_equal(cuts[6], images[1, 4:, :4])
    flat = np.full((1, 8, 8, 3), 7, np.uint8)
    assert np.array_equal(judges.box_down(flat, 4), np.full((1, 2, 2, 3), 7, np.uint8))
    with pytest.raises(ValueError, match="do not cut"):
        judges.cut_tiles(images, 3)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="reference must be uint8"):
        judges.Judge(np.zeros((8, 16, 16, 3)))
    with pytest.raises(ValueError, match="at least 4 images"):
        judges.Judge(np.zeros((3, 16, 16, 3), np.uint8))
    with pytest.raises(ValueError, match="unknown judge families"):
        judges.Judge(np.zeros((8, 16, 16, 3), np.uint8), {"families": ["fid"]})
    with pytest.raises(ValueError, match="differ in size"):
        judges.Judge(np.zeros((8, 16, 16, 3), np.uint8), {"families": ["texture"]}).score(
            np.zeros((8, 32, 32, 3), np.uint8))


def _solid(n=8, size=64):
    """Tile i is one flat colour (i * 20): where each control's pixels come from is known."""
    return np.stack([np.full((size, size, 3), 20 * i, np.uint8) for i in range(n)])


def test_block_shuffle_takes_each_cell_from_another_tile():
    images = _solid()
    out = controls.block_shuffle(images, block=16, seed=2)
    for i in range(len(images)):
        cells = out[i].reshape(4, 16, 4, 16, 3)
        assert (cells != 20 * i).all()  # never its own
        assert np.isin(np.unique(cells), 20 * np.arange(8)).all()


def test_blur_is_box_down_then_lanczos_back():
    images = _solid()
    assert np.array_equal(controls.blur(images), images)  # a flat tile stays flat
    rng = np.random.default_rng(0)
    noisy = rng.integers(0, 256, (2, 64, 64, 3), dtype=np.uint8)
    assert controls.blur(noisy).std() < noisy.std() / 2


def test_seam_quilt_builds_each_tile_from_the_other_half():
    images = _solid()
    out = controls.seam_quilt(images, block=16, overlap=4, seed=1)
    order = np.random.default_rng(1).permutation(8)
    halves = (set(order[:4]), set(order[4:]))
    for i in range(8):
        other = halves[1] if i in halves[0] else halves[0]
        assert set(np.unique(out[i]).tolist()) <= {20 * j for j in other}


def test_misplaced_detail_is_the_tiles_coarse_look_plus_another_tiles_detail():
    """Flat tiles have no detail: each stays itself. A flat tile given a textured neighbour's detail keeps its own
    coarse look (x4 box means) and gains the neighbour's texture, never its own."""
    images = _solid()
    assert np.array_equal(controls.misplaced_detail(images, seed=3), images)
    rng = np.random.default_rng(0)
    pair = np.stack([np.full((64, 64, 3), 120, np.uint8), rng.integers(60, 190, (64, 64, 3), dtype=np.uint8)])
    out = controls.misplaced_detail(pair, seed=0)
    detail_of_1 = pair[1].astype(int) - controls.blur(pair)[1]
    np.testing.assert_array_equal(out[0].astype(int) - 120, detail_of_1)  # flat tile: its look + tile 1's detail
    np.testing.assert_array_equal(out[1], controls.blur(pair)[1])  # textured tile: its look + a flat tile's (none)
    box = judges.box_down(out[:1], 4).astype(float)
    assert abs(box.mean() - 120) < 1.0  # the coarse look is kept on average
    assert np.array_equal(controls.make_control("misplaced_detail", pair, seed=0), out)


def test_coupling_stats_known_answers():
    """A smooth step has its detail exactly where the coarser bands have theirs (magnitudes correlate, strongly more
    fine energy on the edge than off it); white noise's bands are not coupled. The statistics ignore a transpose
    (x and y swapped), and texture_features gains them only when asked."""
    x = np.arange(128)
    step = np.tile(1.0 / (1.0 + np.exp(-(x - 64) / 1.5)), (128, 1))
    s = np.array(judges._coupling_stats(step))
    assert s.shape == (12,)
    assert (s[0:6:3] > 0.8).all() and (s[0::3] > 0.5).all() and (s[2::3] > 0.5).all(), s  # coarsest: 8 px wide
    noise = np.random.default_rng(0).normal(size=(128, 128))
    n = np.array(judges._coupling_stats(noise))
    assert s[0] > n[0] + 0.3 and s[2] > n[2] + 1.0, (s, n)
    np.testing.assert_allclose(judges._coupling_stats(step.T), s, rtol=1e-9, atol=1e-12)
    assert np.isfinite(judges._coupling_stats(np.zeros((64, 64)))).all()  # flat: 0, not NaN
    images = np.random.default_rng(1).integers(0, 256, (2, 64, 64, 3), dtype=np.uint8)
    plain = judges.texture_features(images, orientation=False)
    coupled = judges.texture_features(images, orientation=False, coupling=True)
    k = plain.shape[1] - 3 * len(judges.QUANTILES)  # the coupling columns come before the colour quantiles
    assert coupled.shape[1] - plain.shape[1] == 12 and np.array_equal(np.c_[coupled[:, :k], coupled[:, k + 12:]], plain)


def test_coupling_gap_is_zero_for_the_twins_negative_for_misplaced_detail_positive_for_blur(tiles):
    """Paired with their own real tiles: the tiles themselves have no gap; another tile's detail over a tile's coarse
    look lies across its stones (negative, the interval below 0); a blur keeps only the edges' detail (positive)."""
    a = tiles[:16]
    same = judges.coupling_gap(a, a)
    assert same["gap"] == 0.0 and same["lower"] == 0.0 and same["n"] == 16
    misplaced = judges.coupling_gap(controls.misplaced_detail(a, seed=0), a)
    assert misplaced["ci_high"] < 0 and misplaced["lower"] >= 0.75, misplaced
    blurred = judges.coupling_gap(controls.blur(a), a)
    assert blurred["ci_low"] > 0, blurred
    with pytest.raises(ValueError, match="twins"):
        judges.coupling_gap(a, a[:8])


def test_skew_and_kurtosis_are_scipys():
    from scipy import stats

    from rockzoom.metrics.judges import _skew_kurtosis

    rng = np.random.default_rng(0)
    for a in (rng.normal(size=4000), rng.exponential(size=300) * 3 + 7, rng.random(17), np.full(40, 3.0)):
        np.testing.assert_allclose(_skew_kurtosis(a), (stats.skew(a), stats.kurtosis(a)), rtol=1e-9, atol=1e-12)
