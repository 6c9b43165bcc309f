"""The realism table and an option's realism figures on a tiny pipeline (fast settings): every row kind, the files,
and the real-vs-real floor sitting at chance."""
import numpy as np
import pandas as pd
import pytest
from texture_data import textures
from tiny_pipeline import make_tiny_pipeline

from rockzoom.generation.realism import (
    COLUMNS,
    GENERATORS,
    UPSCALERS,
    reference_tiles,
    option_realism,
    run_realism_table,
)
from rockzoom.data.store import load_split

SETTINGS = {"max_images": 8, "min_images": 2, "sheet_n": 2,
            "c2st": {"crop": 32, "steps": 5, "min_valid": 0.9}, "kid": {"crop": 32, "crops_per_image": 1, "subsets": 5},
            "memorisation": {"patches": [32], "n_patches": 8}, "heldout_splits": ["val", "test"]}


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    return make_tiny_pipeline(tmp_path_factory.mktemp("tiny"))


def test_table_has_both_blocks_and_writes_its_files(pipeline, tmp_path):
    fake, starts = tmp_path / "fake.npy", tmp_path / "starts.npy"
    images = np.minimum(textures(6, 64, seed=9), 245)
    np.save(fake, images)
    np.save(starts, images + 10)  # every view cell 10 brighter: layout PSNR 20 log10(255 / 10)
    generators = [{"name": "real vs real (s64)", "data_dir": str(pipeline["data64"]), "images": None},
                  {"name": "fake", "data_dir": str(pipeline["data64"]), "images": str(fake), "starts": str(starts)}]
    upscalers = [{"name": "Bicubic", "data_dir": str(pipeline["data256"]), "scale": 4, "upscale": {"method": "bicubic"}}]
    out = dict(table_csv=tmp_path / "r.csv", table_md=tmp_path / "r.md", plot_png=tmp_path / "pd.png")
    table = run_realism_table(generators, upscalers, **out, settings=SETTINGS, device="cpu")
    assert list(table.columns) == COLUMNS
    assert table["block"].tolist() == [GENERATORS, GENERATORS, UPSCALERS]
    assert table["method"].tolist() == ["real vs real (s64)", "fake", "Bicubic x4"]
    assert table["size"].tolist() == [64, 64, 256]
    assert np.isnan(table.loc[0, "psnr"]) and table.loc[2, "psnr"] > 10  # PSNR only where a ground truth exists
    assert ((table["c2st"] >= 0) & (table["c2st"] <= 1)).all() and (table["patch_copy_32"] <= 1).all()
    assert table.loc[1, "layout_db"] == pytest.approx(20 * np.log10(25.5), abs=1e-3)
    assert table.loc[1, "layout_min_db"] == pytest.approx(20 * np.log10(25.5), abs=1e-3)
    assert np.isnan(table.loc[0, "layout_db"])  # only rows with starts
    assert all(p.exists() for p in out.values())
    md = out["table_md"].read_text()
    assert "Generators at their native size" in md and "Upscalers on real inputs" in md and "| Bicubic x4 |" in md
    assert "| 28.1 / 28.1 |" in md and md.count("layout = PSNR") == 1  # explained in the block that has it
    assert pd.read_csv(out["table_csv"])["method"].tolist() == table["method"].tolist()


def test_option_realism_measures_and_writes_the_sheet(pipeline, tmp_path):
    generated = textures(4, 256, seed=3)
    result = option_realism(generated, pipeline["data256"], tmp_path, scale=4, seed=0, settings=SETTINGS)
    assert result["measured"] and "assumes the ground looks alike" in result["note"]
    assert 0 <= result["c2st"] <= 1 and result["size"] == 256
    key = pd.read_csv(tmp_path / "real_or_generated_key.csv")
    assert sorted(key["source"]) == ["generated", "generated", "real", "real"]
    assert (tmp_path / "real_or_generated.png").exists()
    few = option_realism(generated[:1], pipeline["data256"], tmp_path / "few", scale=1, seed=0, settings=SETTINGS)
    assert few["measured"] is False and "needs at least 2" in few["why"]
    three = option_realism(generated[:3], pipeline["data256"], tmp_path / "three", scale=1, seed=0, settings=SETTINGS)
    assert three["measured"] is False and "at least 4 usable images" in three["why"]


def test_reference_tiles_is_val_and_test_never_train_and_capped_by_share(pipeline):
    data = pipeline["data64"]
    val, test, train = (np.asarray(load_split(data, s).images) for s in ("val", "test", "train"))
    images, masks = reference_tiles(data, ["val", "test"], None)
    assert np.array_equal(images, np.concatenate([val, test])) and masks.shape == images.shape[:3]
    only_test, _ = reference_tiles(data, ["test"], None)
    assert np.array_equal(only_test, test)
    capped, _ = reference_tiles(data, ["val", "test"], 3)
    assert len(capped) == 3
    pool = {a.tobytes() for a in np.concatenate([val, test])}
    assert all(a.tobytes() in pool for a in capped)
    assert not {a.tobytes() for a in train} & {a.tobytes() for a in capped}


def test_reference_tiles_capped_is_a_draw_over_the_whole_split_not_its_first_tiles(pipeline):
    data = pipeline["data64"]
    train = np.asarray(load_split(data, "train").images)
    drawn, masks = reference_tiles(data, ("train",), len(train) // 2)
    assert len(drawn) == len(train) // 2 and masks.shape == drawn.shape[:3]
    index = {a.tobytes(): i for i, a in enumerate(train)}
    rows = [index[a.tobytes()] for a in drawn]  # every drawn tile is a training tile
    assert max(rows) >= len(train) // 2  # tile order is position in the tree: the cap reaches its far end
    again, _ = reference_tiles(data, ("train",), len(train) // 2)
    assert np.array_equal(drawn, again)  # seeded
