"""The realism table and an option's realism figures on a tiny pipeline (fast settings): every row kind, the files,
and the real-vs-real floor sitting at chance."""
import json

import numpy as np
import pandas as pd
import pytest
from texture_data import textures, write_texture_dataset
from tiny_pipeline import make_tiny_pipeline

from rockzoom.generation.realism import (
    COLUMNS,
    CONTROLS,
    FLOORS,
    GENERATORS,
    UPSCALERS,
    PARTS,
    reference_tiles,
    option_realism,
    read_part,
    realism_table_from_parts,
    run_realism_part,
)
from rockzoom.data.store import load_split
from rockzoom.generation.blind_test import KEY_CSV, SHEET_PNG

JUDGES = {"families": ["cnn", "texture"], "min_power": 0.9, "controls": ["block_shuffle", "blur"],
          "control_images": 8, "max_reference": 16, "texture": {"repeats": 3},
          "cnn": {"views": ["full", "coarse"], "crop": 64, "steps": 4, "batch": 8, "widths": [8, 16]}}
SETTINGS = {"max_images": 8, "min_images": 2, "sheet_n": 2, "judges": JUDGES,
            "kid": {"crop": 32, "crops_per_image": 1, "subsets": 5},
            "memorisation": {"patches": [32], "n_patches": 8}, "heldout_splits": ["val", "test"]}


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    out = make_tiny_pipeline(root)
    out["ground"] = write_texture_dataset(root / "ground", {"train": 16, "val": 4, "test": 6}, 256, nodata_rows=0)
    return out


def test_table_has_every_block_and_writes_its_files(pipeline, tmp_path):
    fake, starts = tmp_path / "fake.npy", tmp_path / "starts.npy"
    images = np.minimum(textures(6, 256, seed=9), 245)
    np.save(fake, images)
    np.save(starts, images + 10)  # every view cell 10 brighter: layout PSNR 20 log10(255 / 10)
    generators = [{"name": "real vs real (s64)", "data_dir": str(pipeline["data64"]), "images": None},
                  {"name": "fake", "data_dir": str(pipeline["ground"]), "images": str(fake), "starts": str(starts)}]
    upscalers = [{"name": "Bicubic", "data_dir": str(pipeline["data256"]), "scale": 4, "upscale": {"method": "bicubic"}}]
    out = dict(table_csv=tmp_path / "r.csv", table_md=tmp_path / "r.md", plot_png=tmp_path / "pd.png")
    rows = {"ground": [], "generators": generators, "upscalers": upscalers}
    parts, power = [tmp_path / f"{part}.csv" for part in PARTS], tmp_path / "power.json"
    for part, csv in zip(PARTS, parts):  # as the workflow runs them: three jobs, any order
        run_realism_part(part, rows[part], ground_dir=pipeline["ground"], rows_csv=csv,
                         power_json=power if part == "ground" else None, settings=SETTINGS, device="cpu")
    judged_apart = read_part(parts[1]).iloc[1]  # a generator row, judged without the power checks
    assert judged_apart["train_max_by"] == "no power" and 0 <= judged_apart["train_texture"] <= 1
    table = realism_table_from_parts(parts, power, **out)
    assert list(table.columns) == COLUMNS
    assert table["block"].tolist() == [FLOORS, FLOORS, CONTROLS, CONTROLS, FLOORS, GENERATORS, UPSCALERS]
    assert table["method"].tolist()[:4] == ["real: training half vs half", "real: held-out vs training ground",
                                            "control: 16 px blocks of other tiles", "control: x4 box-averaged, "
                                            "Lanczos back"]
    assert table["method"].tolist()[4:] == ["real vs real (s64)", "fake", "Bicubic x4"]
    fake_row, up_row = table.iloc[5], table.iloc[6]
    for ref in ("train", "heldout"):  # a generator is judged against both grounds, by both families
        assert 0 <= fake_row[f"{ref}_texture"] <= 1 and 0 <= fake_row[f"{ref}_cnn"] <= 1
        assert fake_row[f"{ref}_cnn"] == max(fake_row[f"{ref}_cnn_full"], fake_row[f"{ref}_cnn_coarse"])
    powered = json.loads(power.read_text())["powered"]  # the headline comes from this run's power checks
    with_power = {fam: fake_row[f"train_{fam}"] for fam, ok in powered.items() if ok}
    assert fake_row["train_max"] == max(with_power.values()) if with_power else fake_row["train_max_by"] == "no power"
    assert fake_row["train_n_real"] == 16 and fake_row["heldout_n_real"] == 10 and fake_row["train_n"] == 6
    assert np.isnan(up_row["train_texture"]) and up_row["heldout_n"] == up_row["heldout_n_real"] == 8  # analogy
    assert np.isnan(table.loc[5, "psnr"]) and table.loc[6, "psnr"] > 10  # PSNR only where a ground truth exists
    assert table.loc[5, "layout_db"] == pytest.approx(20 * np.log10(25.5), abs=1e-3)
    assert all(p.exists() for p in out.values())
    md = out["table_md"].read_text()
    assert "| upscalers by scale analogy | Bicubic x4 | 8 vs 8 | the same held-out tiles |" in md
    assert "Power this run:" in md and "| 28.1 / 28.1 |" in md
    assert pd.read_csv(out["table_csv"])["method"].tolist() == table["method"].tolist()


def test_headline_is_the_max_over_families_with_power():
    from rockzoom.generation.judging import flat_result

    result = {"texture": {"score": 0.7, "ci_low": 0.6, "ci_high": 0.8, "n_real": 10, "n_fake": 10},
              "cnn": {"score": 0.9, "ci_low": 0.8, "ci_high": 0.95, "n_real": 10, "n_fake": 10,
                      "views": {"full": {"score": 0.9}}}}
    both = flat_result(result, {"texture": True, "cnn": True}, "train")
    assert both["train_max"] == 0.9 and both["train_max_by"] == "cnn" and both["train_cnn_full"] == 0.9
    texture_only = flat_result(result, {"texture": True, "cnn": False}, "train")
    assert texture_only["train_max"] == 0.7 and texture_only["train_max_by"] == "texture"
    none = flat_result(result, {"texture": False, "cnn": False}, "train")
    assert np.isnan(none["train_max"]) and none["train_max_by"] == "no power"
    # the table's parts are judged apart from the power checks: their headline is recomputed from the flat columns
    from rockzoom.generation.judging import headline_columns

    heads = ("train_max", "train_max_ci_low", "train_max_ci_high", "train_max_by")
    for powered in ({"texture": True, "cnn": True}, {"texture": True, "cnn": False}, {"texture": False, "cnn": True}):
        flat = flat_result(result, powered, "train")
        judged_apart = {k: v for k, v in flat_result(result, {}, "train").items() if k not in heads}
        assert headline_columns(judged_apart, powered, "train") == {k: flat[k] for k in heads}
    tie = {"texture": {**result["texture"], "score": 0.9}, "cnn": result["cnn"]}
    assert headline_columns(flat_result(tie, {}, "train"), {"texture": True, "cnn": True}, "train")[
        "train_max_by"] == flat_result(tie, {"texture": True, "cnn": True}, "train")["train_max_by"] == "texture"
    assert headline_columns({"train_texture": float("nan")}, {"texture": True}, "train") == {}  # not judged


def test_option_realism_judges_both_pixel_sizes_and_writes_the_pair_sheet(pipeline, tmp_path):
    generated = textures(4, 512, seed=3)
    result = option_realism(generated, pipeline["ground"], tmp_path, scale=2, seed=0, settings=SETTINGS)
    assert result["measured"] and "scale analogy" in result["note"]
    own, tree = result["own_pixel_size"], result["tree_pixel_size"]
    assert own["train_n"] == 16 and tree["train_n"] == 4  # 4 cuts of each 512 px sample; box-averaged: 4 tiles
    assert 0 <= own["train_max"] <= 1 and 0 <= tree["heldout_max"] <= 1
    key = pd.read_csv(tmp_path / KEY_CSV)
    assert len(key) == 2 and set(key["real_side"]) <= {"L", "R"} and (tmp_path / SHEET_PNG).exists()
    small = option_realism(textures(4, 64, seed=3), pipeline["ground"], tmp_path / "small", scale=1, seed=0,
                           settings=SETTINGS)
    assert small["measured"] is False and "do not cut into whole 256 px tiles" in small["why"]
    two = option_realism(textures(2, 256, seed=3), pipeline["ground"], tmp_path / "two", scale=1, seed=0,
                         settings=SETTINGS)
    assert two["measured"] is False and "the judges need at least 4" in two["why"]
    one = option_realism(textures(1, 1024, seed=3), pipeline["ground"], tmp_path / "one", scale=4, seed=0,
                         settings=SETTINGS)  # 16 cuts of one sample are one group: not enough to judge
    assert one["own_pixel_size"]["measured"] is False and one["tree_pixel_size"]["measured"] is False
    few = option_realism(generated, pipeline["data256"], tmp_path / "few", scale=2, seed=0, settings=SETTINGS)
    assert few["measured"] is False and "at least 8 complete 256 px" in few["why"]  # its tiles have no-data rows


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
