"""Survey scale: memory-mapped, parallel datasets hold the same arrays as stitching the tiles in memory; the
max_samples cap is seeded, stratified by block and recorded."""
import csv
import json

import numpy as np
import pytest

from rockzoom.data.dataset import build_dataset, make_split
from rockzoom.data.demo import make_demo_pyramid
from rockzoom.data.store import load_split
from rockzoom.data.tiles import build_index, decode_tile_rgba, read_index

pytestmark = pytest.mark.slow  # ~1 min on 2 free cores


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("scale")
    make_demo_pyramid(root / "tiles", tiles_x=16, tiles_y=16, seed=4, chunk_tiles=8)
    build_index(root / "tiles", 23, root / "index.csv", root / "rejected.csv")
    make_split(root / "index.csv", root / "blocks.csv", zoom=23, block_zoom=21,
               fractions={"train": 0.6, "val": 0.2, "test": 0.2}, seed=0, sizes=[64, 256, 512], min_valid=0.5)
    return root


def _reference(root, out, split, size):
    """The split's arrays stitched in memory from the tiles named in its samples.csv (today's in-memory path)."""
    by_key = {(r.x, r.y): r.path for r in read_index(root / "index.csv")}
    with (out / f"{split}_samples.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    n = max(1, size // 256)
    decoded = {}  # each tile decoded once (a 64 px split has 16 samples per tile)

    def tile(key):
        if key not in decoded:
            decoded[key] = decode_tile_rgba(by_key[key])[0]
        return decoded[key]

    images = np.zeros((len(rows), size, size, 3), np.uint8)
    masks = np.zeros((len(rows), size, size), bool)
    for i, row in enumerate(rows):
        x, y, ox, oy = (int(row[k]) for k in ("x", "y", "offset_x", "offset_y"))
        canvas = np.zeros((n * 256, n * 256, 4), np.uint8)
        for j in range(n):
            for k in range(n):
                canvas[j * 256:(j + 1) * 256, k * 256:(k + 1) * 256] = tile((x + k, y + j))
        crop = canvas[oy:oy + size, ox:ox + size]
        images[i], masks[i] = crop[..., :3], crop[..., 3] > 0
    return images, masks


@pytest.mark.parametrize("size", [64, 256, 512])
def test_memmap_dataset_equals_in_memory_stitching_for_any_worker_count(tree, tmp_path, size):
    outs = {}
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        build_dataset(tree / "index.csv", tree / "blocks.csv", out, size=size, min_valid=0.5, guard_tiles=1,
                      workers=workers)
        outs[workers] = out
    total = 0
    for split in ("train", "val", "test"):
        ref_images, ref_masks = _reference(tree, outs[1], split, size)
        arrays = load_split(outs[1], split)
        np.testing.assert_array_equal(arrays.images, ref_images)
        np.testing.assert_array_equal(arrays.masks, ref_masks)
        total += len(arrays)
        for name in (f"{split}_images.npy", f"{split}_masks.npy", f"{split}_samples.csv"):
            assert (outs[1] / name).read_bytes() == (outs[2] / name).read_bytes()
    assert total > 0 and not list(outs[1].glob("*.tmp*"))


def test_max_samples_is_seeded_stratified_by_block_and_recorded(tree, tmp_path):
    full = build_dataset(tree / "index.csv", tree / "blocks.csv", tmp_path / "full", size=64, min_valid=0.5,
                         guard_tiles=1)
    cap = 40
    capped = build_dataset(tree / "index.csv", tree / "blocks.csv", tmp_path / "cap", size=64, min_valid=0.5,
                           guard_tiles=1, max_samples=cap, seed=3, workers=2)
    again = build_dataset(tree / "index.csv", tree / "blocks.csv", tmp_path / "again", size=64, min_valid=0.5,
                          guard_tiles=1, max_samples=cap, seed=3)
    assert capped["manifest_hash"] == again["manifest_hash"] != full["manifest_hash"]
    assert capped["max_samples"] == cap
    on_disk = json.loads((tmp_path / "cap" / "summary.json").read_text())
    assert on_disk["dropped_by_max_samples"] == capped["dropped_by_max_samples"] > 0
    for split, info in capped["splits"].items():
        before = full["splits"][split]["count"]
        assert info["before_max_samples"] == before and info["count"] == min(cap, before)
        if before > cap:  # every block keeps its share: floor or ceil of count * cap / before
            with (tmp_path / "full" / f"{split}_samples.csv").open() as fh:
                per_block_full = _count(csv.DictReader(fh))
            with (tmp_path / "cap" / f"{split}_samples.csv").open() as fh:
                per_block_cap = _count(csv.DictReader(fh))
            for block, n in per_block_full.items():
                share = n * cap / before
                assert int(np.floor(share)) <= per_block_cap.get(block, 0) <= int(np.ceil(share))
    images = load_split(tmp_path / "cap", "train").images
    assert len(images) == capped["splits"]["train"]["count"]


def _count(rows):
    out = {}
    for row in rows:
        out[row["block"]] = out.get(row["block"], 0) + 1
    return out
