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
    return gen.fit_scene_model(ground, source_size=96, max_sources=5, min_valid=1.0, grid=16, sun_images=8, seed=0)


def test_fit_keeps_at_most_max_sources_windows_of_the_ground(ground, model):
    assert model.windows.shape == (5, 96, 96, 3) and model.masks.all()
    for w, (y, x) in zip(model.windows, model.origins):
        assert np.array_equal(w, ground.window(int(y), int(x), 96)[0])
    assert (0, False) in model.transforms
    assert 0 <= model.sun["azimuth"] < 360


def test_model_round_trip(tmp_path, model):
    model.save(tmp_path / "m.pt")
    back = gen.SceneModel.load(tmp_path / "m.pt")
    assert np.array_equal(back.windows, model.windows) and back.transforms == model.transforms
    with pytest.raises(ValueError, match="not a scene model"):
        import torch
        torch.save({"format": "other"}, tmp_path / "x.pt")
        gen.SceneModel.load(tmp_path / "x.pt")


def test_canvas_uses_only_sun_consistent_transforms(model):
    mirrored = gen.SceneModel(model.windows, model.masks, model.origins,
                              {**model.sun, "transforms": [[0, False], [0, True]]})
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(6):
        img, mask, used = gen.canvas(mirrored, 150, rng)  # 2 x 2 windows of 96 px
        assert img.shape == (192, 192, 3) and mask.all()
        for j, u in enumerate(used):
            t = tuple(u["transform"])
            assert t in {(0, False), (0, True)}
            seen.add(t)
            y, x = (j // 2) * 96, (j % 2) * 96
            w = model.windows[u["window"]]
            assert np.array_equal(img[y:y + 96, x:x + 96], w[:, ::-1] if t[1] else w)
        assert len({u["window"] for u in used}) == 4  # distinct windows while there are enough
    assert seen == {(0, False), (0, True)}


def test_generation_is_seeded_per_sample(model):
    a, rec = gen.generate_scenes(model, 2, 64, seed=7, settings=FAST)
    b, _ = gen.generate_scenes(model, 1, 64, seed=7, settings=FAST)
    assert a.shape == (2, 64, 64, 3) and a.dtype == np.uint8
    assert np.array_equal(a[0], b[0])  # sample 0 does not depend on how many are drawn
    assert not np.array_equal(a[0], a[1])
    assert rec[0]["canvas_width"] == 96 and len(rec[0]["sources"]) == 1


def test_unknown_settings_are_named():
    with pytest.raises(ValueError, match="bogus"):
        gen.settings_from({"bogus": 1})
    assert gen.settings_from({"patch": 5}).patch == 5


def test_a_ground_without_a_window_fails_clearly(ground):
    with pytest.raises(ValueError, match="no 512 px window"):
        gen.fit_scene_model(ground, source_size=512)
