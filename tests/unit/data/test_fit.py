"""The auto-fitted split on small synthetic trees whose answer is known."""
import json

import pytest

from rockzoom.data.fit import check_size_supported, fit_split, write_fit
from rockzoom.data.tiles import TileRecord

FRACTIONS = {"train": 0.6, "val": 0.2, "test": 0.2}
ALL = {"train": ["option_a"], "val": ["option_a"], "test": ["option_a"]}


def grid(nx, ny, x0=8000, y0=16000, holes=()):
    return [TileRecord(z=23, x=x0 + i, y=y0 + j, path=f"{i}_{j}.png", width=256, height=256, valid_fraction=1.0,
                       mean_luma=float((7 * i + 3 * j) % 200), mode="RGBA", sha1="0")
            for i in range(nx) for j in range(ny) if (i, j) not in holes]


def fit(records, needs, block_zoom="auto", sizes=(256, 1024, 2048), guard=0):
    return fit_split(records, zoom=23, block_zoom=block_zoom, sizes=list(sizes), needs=needs, fractions=FRACTIONS,
                     seed=0, min_valid=0.9, guard_tiles=guard)


def test_tree_with_256_and_1024_but_no_2048_names_2048_and_its_targets():
    # 12 x 6 tiles: three complete 4x4 groups (1024 px), no complete 8x8 group (2048 px)
    needs = {256: ALL, 1024: {"test": ["option_a", "option_c"]}, 2048: {"test": ["option_c"]}}
    f = fit(grid(12, 6), needs)
    assert f.block_zoom == 21  # 4x4-tile blocks: the only zoom holding 1024 px samples in three blocks
    assert f.unsupported == [2048]
    assert f.sizes[1024].counts == {"train": 1, "val": 1, "test": 1}
    assert f.sizes[256].supported and f.sizes[256].counts["train"] >= f.sizes[256].counts["val"] > 0
    msg = f.message(2048)
    assert "2048 px" in msg and "0 complete" in msg and "option_c" in msg and "dataset.sizes" in msg
    assert "option_a" not in msg


def test_auto_prefers_more_test_blocks_when_the_same_sizes_are_supported():
    needs = {256: ALL}
    f = fit(grid(16, 16), needs, sizes=[256])
    assert f.unsupported == [] and f.block_zoom == 23  # one-tile blocks: the most test blocks
    assert f.blocks["test"] == round(0.2 * 256)


def test_a_lone_block_of_the_largest_size_goes_to_test():
    # 24 x 16 tiles (six 8x8-tile blocks) with a hole in five: one complete 2048 px group; before, it went to val
    # half of the time (random start of the test/val alternation), leaving 2048 without a test sample
    holes = {(12, 3), (20, 3), (4, 12), (12, 12), (20, 12)}
    needs = {256: ALL, 2048: {"test": ["option_c"]}}
    for seed in range(8):
        f = fit_split(grid(24, 16, holes=holes), zoom=23, block_zoom=20, sizes=[256, 2048], needs=needs,
                      fractions=FRACTIONS, seed=seed, min_valid=0.9, guard_tiles=0)
        assert f.sizes[2048].complete == 1 and f.sizes[2048].counts["test"] == 1, seed


def test_explicit_block_zoom_wins_and_unsupported_size_fails_build_at_once(tmp_path):
    needs = {256: ALL, 1024: {"train": ["option_c"], "val": ["option_c"]}}
    f = fit(grid(12, 6), needs, block_zoom=22, sizes=[256, 1024])
    assert f.block_zoom == 22 and not f.auto
    assert f.unsupported == [1024] and not f.sizes[1024].fits_block
    write_fit(f, tmp_path / "split.json")
    assert json.loads((tmp_path / "split.json").read_text())["unsupported"] == [1024]
    check_size_supported(tmp_path / "split.json", 256)
    with pytest.raises(ValueError, match="dataset size 1024 px.*option_c"):
        check_size_supported(tmp_path / "split.json", 1024)


def test_train_smaller_than_val_is_not_supported():
    # guard band 1 on 2x2-tile blocks: training 512 px mosaics next to held-out blocks are dropped
    needs = {512: {"train": ["option_b"], "val": ["option_b"], "test": ["option_b"]}}
    f = fit(grid(6, 4), needs, block_zoom=22, sizes=[512], guard=1)
    c = f.sizes[512].counts
    assert c["train"] < c["val"] and f.unsupported == [512]
    assert "need a train sample" in f.message(512)


@pytest.mark.parametrize("guard", [0, 1])
def test_counts_from_the_index_equal_what_build_dataset_builds(tmp_path, guard):
    import numpy as np
    from PIL import Image

    from rockzoom.data.dataset import build_dataset, make_split

    for i in range(8):
        for j in range(6):
            a = np.full((256, 256, 4), 30 * i + 5 * j, np.uint8)
            a[..., 3] = 0 if (i, j) == (5, 2) else 255  # one empty tile: mosaics over it fall below min_valid
            path = tmp_path / "tree" / "23" / str(8000 + i) / f"{16000 + j}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(a, "RGBA").save(path)
    from rockzoom.data.tiles import build_index

    stray = tmp_path / "tree" / "23" / "8100" / "16100.png"  # a valid tile far away: in no split, no dataset
    stray.parent.mkdir()
    stray.write_bytes(path.read_bytes())
    build_index(tmp_path / "tree", 23, tmp_path / "index.csv", tmp_path / "rej.csv", scheme="xyz")
    needs = {256: ALL, 512: ALL, 1024: {"test": ["benchmark"]}}
    make_split(tmp_path / "index.csv", tmp_path / "blocks.csv", zoom=23, block_zoom="auto", fractions=FRACTIONS,
               seed=0, sizes=[256, 512, 1024], min_valid=0.9, guard_tiles=guard, needs=needs,
               fit_json=tmp_path / "split.json")
    fit = json.loads((tmp_path / "split.json").read_text())
    assert [(t["x"], t["y"]) for t in fit["isolated_tiles"]] == [(8100, 16100)]
    assert fit["sizes"]["256"]["complete"] == 8 * 6 - 1  # the stray is not counted (the empty tile is not either)
    for size in fit["sizes"]:
        if size in map(str, fit["unsupported"]):
            with pytest.raises(ValueError, match=f"dataset size {size} px.*also unsupported"):
                build_dataset(tmp_path / "index.csv", tmp_path / "blocks.csv", tmp_path / f"s{size}", size=int(size),
                              min_valid=0.9, guard_tiles=guard, fit_json=tmp_path / "split.json")
            continue
        summary = build_dataset(tmp_path / "index.csv", tmp_path / "blocks.csv", tmp_path / f"s{size}",
                                size=int(size), min_valid=0.9, guard_tiles=guard, fit_json=tmp_path / "split.json")
        assert {k: v["count"] for k, v in summary["splits"].items()} == fit["sizes"][size]["counts"], size


def test_held_out_blocks_drawn_among_a_smaller_size_when_the_largest_leaves_it_no_training():
    # 13 x 10 tiles, guard band 1, 4x4-tile blocks: drawing val/test among the blocks holding a 1024 px mosaic leaves
    # 512 px train 2 / val 8 / test 8; drawing them among 512 px blocks gives 7/4/4 and still a 1024 px test mosaic
    needs = {256: ALL, 512: ALL, 1024: {"test": ["benchmark"]}}
    f = fit(grid(13, 10, holes={(8, 2), (11, 0)}), needs, block_zoom=21, sizes=[256, 512, 1024], guard=1)
    assert f.unsupported == []
    assert f.sizes[512].counts == {"train": 7, "val": 4, "test": 4} and f.sizes[1024].counts["test"] == 1


def _split_files(index_csv, out, cfg):
    from rockzoom.config import size_needs
    from rockzoom.data.dataset import make_split

    sp = cfg["split"]
    make_split(index_csv, out / "blocks.csv", zoom=cfg["tiles"]["zoom"], block_zoom=sp["block_zoom"],
               fractions=sp["fractions"], stratify=sp["stratify"], seed=cfg["seed"], sizes=cfg["dataset"]["sizes"],
               min_valid=cfg["dataset"]["min_valid"], guard_tiles=sp["guard_tiles"], needs=size_needs(cfg),
               fit_json=out / "split.json")
    return (out / "blocks.csv").read_text(), json.loads((out / "split.json").read_text())


@pytest.mark.real
@pytest.mark.parametrize("overlay", ["real-tiles.yaml", None])  # the real tree's zoom-22 split; the default auto-fit
def test_a_stray_tile_far_from_the_real_tree_does_not_move_its_split(real_tiles, repo, tmp_path, overlay):
    """The issue's case: the real tree plus a valid tile whose row is out of range at zoom 23 (rejected; it moved the
    auto-fit from zoom 20 to 21) and a valid tile with valid indices ~500 tiles away (isolated): the same blocks and
    the same sample counts as the real tree alone."""
    import csv
    import os
    from pathlib import Path

    from rockzoom.config import load_config
    from rockzoom.data.tiles import build_index

    tree = tmp_path / "tree"
    for col in (real_tiles / "23").iterdir():
        (tree / "23" / col.name).mkdir(parents=True)
        for f in col.iterdir():
            os.symlink(f, tree / "23" / col.name / f.name)
    os.symlink(real_tiles / "tilemapresource.xml", tree / "tilemapresource.xml")
    first = min((real_tiles / "23").iterdir())
    tile = min(first.iterdir())
    os.symlink(tile, tree / "23" / first.name / "9999994.png")  # the stray: row >= 2^23
    (tree / "23" / str(int(first.name) + 500)).mkdir()
    far = tree / "23" / str(int(first.name) + 500) / f"{int(tile.stem) - 600}.png"
    os.symlink(tile, far)
    build_index(tree, 23, tmp_path / "with.csv", tmp_path / "rejected.csv", workers=2)
    with (tmp_path / "rejected.csv").open() as fh:
        rejected = [(Path(r["path"]).name, r["reason"]) for r in csv.DictReader(fh)]
    assert rejected == [("9999994.png", "out of range: row y=9999994 is outside [0, 2^23 = 8388608) at zoom 23")]
    rows = (tmp_path / "with.csv").read_text().splitlines(keepends=True)
    alone = [r for r in rows if str(far) not in r]
    assert len(alone) == len(rows) - 1  # the far tile is indexed
    (tmp_path / "alone.csv").write_text("".join(alone))
    cfg = load_config(*([repo / "config" / overlay] if overlay else []))
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    blocks_alone, fit_alone = _split_files(tmp_path / "alone.csv", tmp_path / "a", cfg)
    blocks_with, fit_with = _split_files(tmp_path / "with.csv", tmp_path / "b", cfg)
    assert [t["path"] for t in fit_with.pop("isolated_tiles")] == [str(far)]
    assert fit_alone.pop("isolated_tiles") == []
    assert blocks_with == blocks_alone and fit_with == fit_alone
    held_out = [r for r in csv.DictReader(blocks_with.splitlines()) if r["split"] != "train"]
    assert fit_with["block_zoom"] == (22 if overlay else 20) and fit_with["unsupported"] == [] and held_out
