import csv
import json

import numpy as np
import pytest
from PIL import Image

from rockzoom.data.dataset import build_dataset, make_split
from rockzoom.data.split import gap_to_rect
from rockzoom.data.store import load_split
from rockzoom.data.tiles import build_index, decode_tile, read_index

SPLIT = dict(zoom=23, block_zoom=22, fractions={"train": 0.6, "val": 0.2, "test": 0.2}, seed=0, min_valid=0.5)


def make_tree(root, nx=8, ny=8, x0=4000, y0=8000):
    """An XYZ tree of random RGBA tiles (with one partly transparent tile) on an nx x ny grid."""
    rng = np.random.default_rng(1)
    for i in range(nx):
        for j in range(ny):
            a = rng.integers(0, 256, (256, 256, 4), dtype=np.uint8)
            a[..., 3] = 255
            if (i, j) == (0, 0):
                a[:200, :, 3] = 0
            path = root / "23" / str(x0 + i) / f"{y0 + j}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(a, "RGBA").save(path)
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = make_tree(tmp_path_factory.mktemp("tree"))
    out = tmp_path_factory.mktemp("out")
    build_index(root, 23, out / "index.csv", out / "rejected.csv", scheme="xyz")
    make_split(out / "index.csv", out / "blocks.csv", sizes=[64, 256, 512], **SPLIT)
    for s in (64, 256, 512):
        build_dataset(out / "index.csv", out / "blocks.csv", out / f"s{s}", size=s, min_valid=0.5, guard_tiles=1)
    return out


def samples(out, size, split):
    with (out / f"s{size}" / f"{split}_samples.csv").open() as fh:
        return list(csv.DictReader(fh))


def test_mosaics_equal_source_tiles_exactly(built):
    recs = {(r.x, r.y): r for r in read_index(built / "index.csv")}
    for split in ("train", "val", "test"):
        arr = load_split(built / "s512", split)
        for i, row in enumerate(samples(built, 512, split)):
            x, y = int(row["x"]), int(row["y"])
            for dy in range(2):
                for dx in range(2):
                    rgb, mask, _ = decode_tile(recs[(x + dx, y + dy)].path)
                    np.testing.assert_array_equal(arr.images[i, dy * 256:(dy + 1) * 256, dx * 256:(dx + 1) * 256], rgb)
                    np.testing.assert_array_equal(arr.masks[i, dy * 256:(dy + 1) * 256, dx * 256:(dx + 1) * 256], mask)


def test_crops_are_non_overlapping_pieces_of_tiles(built):
    recs = {(r.x, r.y): r for r in read_index(built / "index.csv")}
    arr = load_split(built / "s64", "test")
    rows = samples(built, 64, "test")
    assert len(rows) == len(arr) > 0
    row = rows[5]
    rgb, _, _ = decode_tile(recs[(int(row["x"]), int(row["y"]))].path)
    ox, oy = int(row["offset_x"]), int(row["offset_y"])
    np.testing.assert_array_equal(arr.images[5], rgb[oy:oy + 64, ox:ox + 64])


def tile_squares(out, size, split):
    n = max(1, size // 256)
    return [(int(r["x"]), int(r["y"]), n) for r in samples(out, size, split)]


def test_split_is_disjoint_with_guard_band_and_consistent_across_sizes(built):
    blocks = {}
    for size in (64, 256, 512):
        for split in ("train", "val", "test"):
            for r in samples(built, size, split):
                assert blocks.setdefault(r["block"], split) == split  # a block has one split at every size
    for size in (64, 256, 512):
        held = tile_squares(built, 512, "val") + tile_squares(built, 512, "test") + \
            tile_squares(built, 256, "val") + tile_squares(built, 256, "test")
        for x, y, n in tile_squares(built, size, "train"):
            for hx, hy, hn in held:
                assert gap_to_rect(x, y, n, hx, hy, hn) >= 1, (size, x, y, hx, hy)
    summary = json.loads((built / "s512" / "summary.json").read_text())
    assert summary["splits"]["test"]["count"] > 0 and summary["manifest_hash"]


def test_masks_follow_alpha_and_min_valid_filters(built):
    # Tile (4000, 8000) is 200/256 transparent: it cannot pass min_valid=0.5 on its own at 256 px.
    for split in ("train", "val", "test"):
        for r in samples(built, 256, split):
            assert (int(r["x"]), int(r["y"])) != (4000, 8000)
            assert float(r["valid_fraction"]) >= 0.5


def test_build_is_deterministic(built, tmp_path):
    build_dataset(built / "index.csv", built / "blocks.csv", tmp_path / "again", size=256, min_valid=0.5,
                  guard_tiles=1)
    a = json.loads((built / "s256" / "summary.json").read_text())
    b = json.loads((tmp_path / "again" / "summary.json").read_text())
    assert a["manifest_hash"] == b["manifest_hash"]
    np.testing.assert_array_equal(load_split(built / "s256", "train").images, load_split(tmp_path / "again", "train").images)


def test_too_small_a_tree_gives_a_clear_error(tmp_path):
    root = make_tree(tmp_path / "tree", nx=2, ny=2)
    build_index(root, 23, tmp_path / "index.csv", tmp_path / "rej.csv", scheme="xyz")
    with pytest.raises(ValueError, match="too few for a train, val and test block"):
        make_split(tmp_path / "index.csv", tmp_path / "blocks.csv", sizes=[256], **SPLIT)
    with pytest.raises(ValueError, match="not 256\\*2\\^k"):
        make_split(tmp_path / "index.csv", tmp_path / "blocks.csv", sizes=[768], **SPLIT)


@pytest.mark.real
def test_real_tiles_build_s256_and_s1024_with_bad_files_rejected(real_tiles, tmp_path):
    import shutil

    tree = tmp_path / "tree"
    shutil.copytree(real_tiles, tree)
    col = sorted((tree / "23").iterdir())[3]
    first = sorted(col.iterdir())[0]
    data = first.read_bytes()
    far = int(first.stem) - 100  # rows in range at zoom 23, far from the survey
    (col / f"{far}.png").write_bytes(data[: len(data) // 3])
    (col / f"{far - 1}.png").write_bytes(b"")
    Image.new("RGB", (300, 300)).save(col / f"{far - 2}.png")
    Image.open(first).convert("L").save(col / f"{far - 3}.png")  # a valid stray: indexed, isolated
    (col / f"{far - 4}.png").write_text("not a png")
    Image.open(first).convert("L").save(col / "9999994.png")  # valid image, row >= 2^23
    out = tmp_path / "out"
    build_index(tree, 23, out / "index.csv", out / "rejected.csv")
    recs = read_index(out / "index.csv")
    with (out / "rejected.csv").open() as fh:
        rejected = {row["path"].split("/")[-1]: row["reason"] for row in csv.DictReader(fh)}
    assert rejected[f"{far}.png"].startswith("truncated")
    assert rejected[f"{far - 1}.png"] == "empty file"
    assert rejected[f"{far - 2}.png"].startswith("wrong size")
    assert rejected[f"{far - 4}.png"].startswith("undecodable")
    assert rejected["9999994.png"].startswith("out of range: row y=9999994")
    assert any(r.path.endswith(f"{far - 3}.png") and r.mode == "L" for r in recs)
    make_split(out / "index.csv", out / "blocks.csv", zoom=23, block_zoom=21,
               fractions={"train": 0.7, "val": 0.15, "test": 0.15}, seed=0, sizes=[256, 1024], min_valid=0.5,
               fit_json=out / "split.json")
    isolated = json.loads((out / "split.json").read_text())["isolated_tiles"]
    assert [t["path"].split("/")[-1] for t in isolated] == [f"{far - 3}.png"]
    for size in (256, 1024):
        summary = build_dataset(out / "index.csv", out / "blocks.csv", out / f"s{size}", size=size, min_valid=0.5,
                                guard_tiles=1)
        assert summary["splits"]["test"]["count"] > 0
    test_blocks = set(json.loads((out / "s1024" / "summary.json").read_text())["splits"]["test"]["blocks"])
    train_blocks = set(json.loads((out / "s256" / "summary.json").read_text())["splits"]["train"]["blocks"])
    assert test_blocks and not test_blocks & train_blocks
    for x, y, n in tile_squares(out, 256, "train"):
        for hx, hy, hn in tile_squares(out, 1024, "test"):
            assert gap_to_rect(x, y, n, hx, hy, hn) >= 1
