"""The scene generator's memory follows its settings, never the training ground's size (issue 32): the model keeps
the capped windows and sun images of a small and of a four times larger ground alike, and the synthesis matches
exhaustively only up to its cap and searches the fine levels with a fixed number of candidates per pixel, chunked."""
import numpy as np
import torch

from rockzoom.data.demo import render_field
from rockzoom.scene import field_synthesis as fs
from rockzoom.scene import generator as gen
from rockzoom.scene.ground import GroundIndex
from rockzoom.scene.settings import FieldSettings, level_scales


def _ground(cols: int, rows: int, tile: int = 64) -> GroundIndex:
    field = np.ascontiguousarray(render_field(cols * tile, rows * tile, seed=5)[..., :3])
    tiles, pos = [], []
    for y in range(0, rows * tile, tile):
        for x in range(0, cols * tile, tile):
            tiles.append(field[y:y + tile, x:x + tile])
            pos.append((y, x))
    tiles = np.stack(tiles)
    return GroundIndex.from_arrays(tiles, np.ones(tiles.shape[:3], bool), np.array(pos))


def test_kept_windows_and_sun_images_do_not_grow_with_the_ground():
    caps = {"sizes": (64, 128), "source_size": 96, "max_sources": 6, "min_valid": 1.0, "min_valid_large": 1.0,
            "grid": 16, "spacing": 0.25, "sun_images": 6, "seed": 1}
    small, large = _ground(4, 3), _ground(8, 6)  # 12 and 48 training tiles
    models = [gen.fit_scene_model(g, **caps) for g in (small, large)]
    for g, m in zip((small, large), models):
        assert {side: src["windows"].shape for side, src in m.sources.items()} == {
            96: (6, 96, 96, 3), 128: (4, 128, 128, 3)}  # max_sources at source_size, proportionally fewer (>= 4) larger
        assert m.sun["n_images"] == 6 and m.info["n_samples"] == len(g.images)
    nbytes = [sum(a.nbytes for src in m.sources.values() for a in src.values()) for m in models]
    assert nbytes[0] == nbytes[1]


def test_matching_follows_the_exhaustive_cap_and_the_candidate_count(monkeypatch):
    st = FieldSettings(coarse=0.25, factor=0.6, patch=5, pca_dims=8, coarse_iterations=1, fine_iterations=1,
                       exhaustive_max=2e5, radius=1, random_jumps=2, chunk=700)
    exhaustive, local = [], []
    real_nearest, real_bmm = fs.nearest, torch.bmm

    def nearest(q, keys, **kw):
        exhaustive.append(len(q) * len(keys))
        return real_nearest(q, keys, **kw)

    def bmm(a, b, *args, **kw):
        local.append(tuple(a.shape))
        return real_bmm(a, b, *args, **kw)

    monkeypatch.setattr(fs, "nearest", nearest)
    monkeypatch.setattr(torch, "bmm", bmm)
    src = np.ascontiguousarray(render_field(160, 160, seed=6)[..., :3])
    out = fs.synthesize_field(src, None, (96, 96), settings=st, seed=0)
    monkeypatch.undo()
    assert out.shape == (96, 96, 3)
    levels = len(level_scales(st.coarse, st.factor))
    coarse_out = round(96 * st.coarse) ** 2
    assert exhaustive[0] <= coarse_out * round(160 * st.coarse) ** 2  # the coarsest level: set by the settings
    assert all(n <= st.exhaustive_max for n in exhaustive[1:])  # below it only up to the cap
    assert local and len(exhaustive) < levels  # the finer levels were searched locally
    candidates = (2 * st.radius + 1) ** 2 + 4 + st.random_jumps
    assert {c for _, c, _ in local} == {candidates} and {d for *_, d in local} == {st.pca_dims}
    assert max(rows for rows, *_ in local) == st.chunk  # the finest level (96 x 96 px) is searched in chunks
