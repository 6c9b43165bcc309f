import numpy as np
import pytest

from rockzoom.data.demo import render_field
from rockzoom.scene import generator as gen
from rockzoom.scene.field_synthesis import FieldSettings
from rockzoom.scene.ground import GroundIndex

FAST = FieldSettings(coarse=0.25, factor=0.6, patch=5, pca_dims=8, coarse_iterations=2, fine_iterations=1)


@pytest.fixture(scope="module")
def ground():
    field = np.ascontiguousarray(render_field(256, 192, seed=4)[..., :3])
    tiles, pos = [], []
    for y in range(0, 192, 64):
        for x in range(0, 256, 64):
            tiles.append(field[y:y + 64, x:x + 64])
            pos.append((y, x))
    tiles = np.stack(tiles)
    return GroundIndex.from_arrays(tiles, np.ones(tiles.shape[:3], bool), np.array(pos))


@pytest.fixture(scope="module")
def model(ground):
    return gen.fit_scene_model(ground, sizes=(64, 96, 128), source_size=96, max_sources=5, min_valid=1.0, grid=16,
                               sun_images=8, seed=0)


def test_fit_keeps_capped_windows_of_the_ground_per_canvas_side(ground, model):
    assert sorted(model.sources) == [96, 128]  # 64 and 96 px images share the 96 px windows
    assert model.sources[96]["windows"].shape == (5, 96, 96, 3)
    assert len(model.sources[128]["windows"]) == 4  # the same memory per side, at least 4
    for side, src in model.sources.items():
        assert src["masks"].all()
        for w, (y, x) in zip(src["windows"], src["origins"]):
            assert np.array_equal(w, ground.window(int(y), int(x), side)[0])
    assert (0, False) in model.transforms
    assert 0 <= model.sun["azimuth"] < 360
    with pytest.raises(ValueError, match="no 256 px windows"):
        model.windows_for(256)


def test_model_round_trip(tmp_path, model):
    model.save(tmp_path / "m.pt")
    back = gen.SceneModel.load(tmp_path / "m.pt")
    assert sorted(back.sources) == sorted(model.sources) and back.transforms == model.transforms
    assert np.array_equal(back.sources[128]["windows"], model.sources[128]["windows"])
    with pytest.raises(ValueError, match="not a scene model"):
        import torch
        torch.save({"format": "other"}, tmp_path / "x.pt")
        gen.SceneModel.load(tmp_path / "x.pt")


def test_canvas_uses_only_sun_consistent_transforms(model):
    mirrored = gen.SceneModel(model.sources, {**model.sun, "transforms": [[0, False], [0, True]]}, model.info)
    identity = gen.SceneModel(model.sources, {**model.sun, "transforms": [[0, False]]}, model.info)
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(12):
        img, mask, used = gen.canvas(mirrored, 64, rng)
        assert img.shape == (96, 96, 3) and mask.all() and used["side"] == 96
        t = tuple(used["transform"])
        assert t in {(0, False), (0, True)}
        seen.add(t)
        w = model.sources[96]["windows"][used["window"]]
        assert np.array_equal(img, w[:, ::-1] if t[1] else w)
        img, _, used = gen.canvas(identity, 128, rng)
        assert used["transform"] == [0, False] and np.array_equal(img, model.sources[128]["windows"][used["window"]])
    assert seen == {(0, False), (0, True)}


def test_generation_is_seeded_per_sample(model):
    a, rec = gen.generate_scenes(model, 2, 64, seed=7, settings=FAST)
    b, _ = gen.generate_scenes(model, 1, 64, seed=7, settings=FAST)
    assert a.shape == (2, 64, 64, 3) and a.dtype == np.uint8
    assert np.array_equal(a[0], b[0])  # sample 0 does not depend on how many are drawn
    assert not np.array_equal(a[0], a[1])
    assert rec[0]["canvas_width"] == 96 and rec[0]["source"]["side"] == 96


def test_unknown_settings_are_named():
    with pytest.raises(ValueError, match="bogus"):
        gen.settings_from({"bogus": 1})
    assert gen.settings_from({"patch": 5}).patch == 5


def test_a_ground_without_a_window_fails_clearly(ground):
    with pytest.raises(ValueError, match="no 512 px window"):
        gen.fit_scene_model(ground, sizes=(256,), source_size=512)


def test_a_draw_copying_too_large_a_piece_is_drawn_again_and_the_smallest_piece_kept(model):
    from rockzoom.scene.novelty import largest_piece

    _, once = gen.generate_scenes(model, 3, 64, seed=2, settings=FAST)
    assert all(r["draws"] == 1 for r in once)
    images, recs, fields = gen.generate_scenes(model, 3, 64, seed=2, settings=FAST, max_piece=1e-6, attempts=3,
                                               return_fields=True)
    assert all(r["draws"] == 3 for r in recs)  # nothing is that small: every draw is made
    for r, f in zip(recs, fields):  # the record's share is the kept image's own largest piece
        assert r["largest_piece"] == largest_piece(f, r["canvas_width"]) / (64 * 64)
    # the first draw is the unredrawn sample; the kept one is at most as large a copy
    assert all(r["largest_piece"] <= o["largest_piece"] for r, o in zip(recs, once))
    lenient, _ = gen.generate_scenes(model, 3, 64, seed=2, settings=FAST, max_piece=1.0, attempts=3)
    assert np.array_equal(lenient, gen.generate_scenes(model, 3, 64, seed=2, settings=FAST)[0])


def test_samples_start_from_different_windows_until_every_window_is_used(model):
    n_windows = len(model.windows_for(64)["windows"])
    _, recs = gen.generate_scenes(model, n_windows + 2, 64, seed=3, settings=FAST)
    windows = [r["source"]["window"] for r in recs]
    assert sorted(windows[:n_windows]) == list(range(n_windows))  # each window once, then the order again
    assert windows[n_windows:] == windows[:2]
    _, fewer = gen.generate_scenes(model, 2, 64, seed=3, settings=FAST)
    assert [r["source"] for r in fewer] == [r["source"] for r in recs[:2]]  # sample i does not depend on n
    _, other = gen.generate_scenes(model, n_windows, 64, seed=4, settings=FAST)
    assert [r["source"]["window"] for r in other] != windows[:n_windows]  # the order is seeded
