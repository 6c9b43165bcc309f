"""The detail stage as the workflow runs it: banks from the train split only, detail per sample, seeded."""
import numpy as np
import pytest
from texture_data import write_texture_dataset

from rockzoom.data.store import save_split
from rockzoom.texture.patch_synthesis import PatchBanks
from rockzoom.texture.stage import add_detail, build_patch_banks


def test_banks_from_the_train_split_then_seeded_detail(tmp_path):
    data = write_texture_dataset(tmp_path / "s64", {"train": 3, "val": 1, "test": 1}, 64, nodata_rows=4)
    banks = build_patch_banks(data, tmp_path / "banks.pt", levels=3, factor=0.75, patch=5, bank_size=64, seed=0)
    loaded = PatchBanks.load(tmp_path / "banks.pt")
    assert loaded.info["split"] == "train" and loaded.info["n_images"] == 3 and loaded.levels == 3
    assert all(len(v) == 64 for v in banks.values)
    starts = np.asarray(np.load(data / "test_images.npy"))
    a = add_detail(starts, loaded, seed=1, synthesis={})
    b = add_detail(starts, loaded, seed=1, synthesis={})
    assert a.shape == starts.shape and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)


def test_an_empty_train_split_is_named(tmp_path):
    data = write_texture_dataset(tmp_path / "s64", {"train": 1, "val": 1, "test": 1}, 64, nodata_rows=0)
    save_split(data, "train", np.zeros((0, 64, 64, 3), np.uint8), np.zeros((0, 64, 64), bool))
    with pytest.raises(ValueError, match="train split is empty"):
        build_patch_banks(data, tmp_path / "banks.pt", levels=2, factor=0.75, patch=5, bank_size=16, seed=0)
