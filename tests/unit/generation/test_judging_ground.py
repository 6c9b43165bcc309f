"""The judges' ground reads only the tiles it keeps: complete tiles of the splits, then a seeded cap."""
import numpy as np

from rockzoom.data.store import save_split
from rockzoom.generation.judging import complete, complete_tiles


def test_complete_tiles_are_the_complete_ones_then_a_seeded_draw(tmp_path):
    rng = np.random.default_rng(0)
    sets = {}
    for split, n in (("val", 7), ("test", 9)):
        images = rng.integers(0, 256, (n, 8, 8, 3), dtype=np.uint8)
        masks = np.ones((n, 8, 8), bool)
        masks[::3, 0, 0] = False  # every third tile has a no-data pixel
        save_split(tmp_path, split, images, masks)
        sets[split] = images, masks
    every = complete(np.concatenate([sets[s][0] for s in sets]), np.concatenate([sets[s][1] for s in sets]))
    got = complete_tiles(tmp_path, ("val", "test"), None, np.random.default_rng(1), chunk=4)
    assert len(every) == 4 + 6 and np.array_equal(got, every)
    capped = complete_tiles(tmp_path, ("val", "test"), 5, np.random.default_rng(1), chunk=4)
    assert np.array_equal(capped, every[np.sort(np.random.default_rng(1).choice(len(every), 5, replace=False))])
