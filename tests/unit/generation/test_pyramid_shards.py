"""The sharded pyramid: byte-identical to one shard and to the per-tile path, and the intermediate zoom is the
alpha-weighted 2x2 average of the new finest zoom."""
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from rockzoom.data.tiles import decode_tile_rgba, index_tiles, tms_to_xyz_row
from rockzoom.generation.pyramid import (
    average_2x2,
    finish_pyramid,
    mosaic,
    plan_shards,
    run_shard,
    upscale_pyramid,
    write_shard_list,
)
from rockzoom.models.registry import SR_NETS
from rockzoom.superres.upscale import ClassicalUpscaler, NetUpscaler


def make_tree(root, nx=5, ny=4, x0=101, y0=203, zoom=10):
    """A TMS tree of smooth random tiles, one missing (a hole inside the tree) and one with a no-data corner."""
    rng = np.random.default_rng(1)
    field = np.asarray(Image.fromarray(rng.integers(0, 256, (ny * 16, nx * 16, 3), dtype=np.uint8))
                       .resize((nx * 256, ny * 256), Image.BICUBIC))
    for i in range(nx):
        for j in range(ny):
            if (i, j) == (2, 2):
                continue
            tile = np.dstack([field[j * 256:(j + 1) * 256, i * 256:(i + 1) * 256], np.full((256, 256), 255, np.uint8)])
            if (i, j) == (1, 0):
                tile[:90, :70, 3] = 0
                tile[:90, :70, :3] = 0
            path = root / str(zoom) / str(x0 + i) / f"{tms_to_xyz_row(zoom, y0 + j)}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(tile, "RGBA").save(path)
    (root / "tilemapresource.xml").write_text("<TileMap/>")


def digest(root):
    return {str(p.relative_to(root)): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*.png"))}


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("shards") / "in"
    make_tree(root)
    return root


def reference_upscale_tile(by_key, x, y, upscaler, context=16):
    """The per-tile path, reading each file itself (an oracle for the shard's decode-once window): the tile plus
    `context` pixels of each neighbour (its own edge repeated where one is missing), upscaled, its own area kept."""
    s = upscaler.scale
    canvas = np.pad(decode_tile_rgba(by_key[(x, y)].path)[0], ((context, context), (context, context), (0, 0)),
                    mode="edge")
    size = 256 + 2 * context
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if (dx, dy) == (0, 0) or (x + dx, y + dy) not in by_key:
                continue
            tile = decode_tile_rgba(by_key[(x + dx, y + dy)].path)[0]
            cy0, cy1 = max(0, context + dy * 256), min(size, context + (dy + 1) * 256)
            cx0, cx1 = max(0, context + dx * 256), min(size, context + (dx + 1) * 256)
            ty0, tx0 = cy0 - (context + dy * 256), cx0 - (context + dx * 256)
            canvas[cy0:cy1, cx0:cx1] = tile[ty0:ty0 + (cy1 - cy0), tx0:tx0 + (cx1 - cx0)]
    rgb = canvas[..., :3].astype(np.float32) / 255.0
    valid = canvas[..., 3] > 0
    if valid.any() and not valid.all():
        rgb[~valid] = rgb[valid].mean(axis=0)
    up = upscaler.upscale(rgb)[context * s:(context + 256) * s, context * s:(context + 256) * s]
    alpha = canvas[context:context + 256, context:context + 256, 3].repeat(s, 0).repeat(s, 1)
    out = np.rint(np.clip(up, 0, 1) * 255).astype(np.uint8)
    out[alpha == 0] = 0
    return out, alpha


def reference_average_2x2(rgba):
    """gdal2tiles' alpha-weighted 2x2 average in float arithmetic: rgb = sum(rgb*a)/sum(a), alpha = mean(a), each
    rounded half up."""
    f = rgba.astype(np.float64)
    a = f[..., 3]
    h, w = a.shape[0] // 2, a.shape[1] // 2
    a_sum = a.reshape(h, 2, w, 2).sum(axis=(1, 3))
    rgb_sum = (f[..., :3] * a[..., None]).reshape(h, 2, w, 2, 3).sum(axis=(1, 3))
    with np.errstate(invalid="ignore", divide="ignore"):
        ref_rgb = np.where(a_sum[..., None] > 0, np.floor(rgb_sum / np.maximum(a_sum, 1)[..., None] + 0.5), 0)
    return np.dstack([ref_rgb, np.floor(a_sum / 4 + 0.5)]).astype(np.uint8)


def test_sharded_pyramid_is_byte_identical_to_one_shard_and_to_the_per_tile_path(tree, tmp_path):
    up = ClassicalUpscaler("lanczos", 4)
    one = upscale_pyramid(tree, tmp_path / "one", up, zoom=10, shard_tiles=64, batch_size=3)
    many = upscale_pyramid(tree, tmp_path / "many", up, zoom=10, shard_tiles=2, batch_size=1)
    assert one["shards"] == 1 and many["shards"] == 9  # shard borders cut through the tree at x=102|104, y=204
    assert one["output_tiles"] == many["output_tiles"] == 19 * 16 - 1  # the no-data corner empties one z12 tile
    assert one["intermediate_tiles"] == {11: 19 * 4}
    assert digest(tmp_path / "one") == digest(tmp_path / "many")
    records, _ = index_tiles(tree, 10)
    by_key = {(r.x, r.y): r for r in records}
    for x, y in [(102, 203), (103, 204), (101, 205)]:  # next to shard borders and to the missing tile
        rgb, alpha = reference_upscale_tile(by_key, x, y, up, context=16)
        for j in range(4):
            for i in range(4):
                path = tmp_path / "one" / "12" / str(x * 4 + i) / f"{tms_to_xyz_row(12, y * 4 + j)}.png"
                want = np.dstack([rgb, alpha])[j * 256:(j + 1) * 256, i * 256:(i + 1) * 256]
                if not want[..., 3].any():
                    assert not path.exists()
                    continue
                np.testing.assert_array_equal(decode_tile_rgba(path)[0], want)
    xml = (tmp_path / "one" / "tilemapresource.xml").read_text()
    assert 'href="11"' in xml and 'href="12"' in xml


def test_intermediate_zoom_is_the_alpha_weighted_average_of_the_finest(tree, tmp_path):
    upscale_pyramid(tree, tmp_path / "out", ClassicalUpscaler("bicubic", 4), zoom=10, shard_tiles=2)
    fine, (fx0, fy0) = mosaic(tmp_path / "out", 12)
    mid, (mx0, my0) = mosaic(tmp_path / "out", 11)
    assert (fx0, fy0) == (2 * mx0, 2 * my0)
    ref = reference_average_2x2(fine)
    h, w = ref.shape[:2]
    np.testing.assert_array_equal(mid[:h, :w], ref[:mid.shape[0], :mid.shape[1]])
    assert (mid[..., 3] == 0).any() and (mid[..., 3] == 255).any()  # the hole and the no-data corner carried up


def test_average_2x2_known_values():
    px = np.zeros((2, 2, 4), np.uint8)
    px[0, 0] = [200, 100, 0, 255]
    px[0, 1] = [100, 50, 10, 255]
    px[1, 0] = [0, 0, 0, 0]  # no-data does not darken
    px[1, 1] = [0, 0, 0, 0]
    np.testing.assert_array_equal(average_2x2(px)[0, 0], [150, 75, 5, 128])


@pytest.mark.parametrize("opaque", [True, False])
def test_average_2x2_matches_the_alpha_weighted_mean_rounded_half_up(opaque):
    """Both paths (all opaque: plain mean; with no-data and partial alpha: alpha-weighted) against float arithmetic."""
    rng = np.random.default_rng(3)
    px = rng.integers(0, 256, (64, 64, 4), dtype=np.uint8)
    px[..., 3] = 255 if opaque else rng.choice([0, 1, 128, 254, 255], (64, 64))
    np.testing.assert_array_equal(average_2x2(px), reference_average_2x2(px))


def test_shard_jobs_write_their_tiles_and_a_summary(tree, tmp_path):
    """The workflow's path: a shard list, one run per shard (any order), then the summary."""
    from rockzoom.data.tiles import build_index

    build_index(tree, 10, tmp_path / "index.csv", tmp_path / "rejected.csv")
    shards = write_shard_list(tmp_path / "index.csv", tmp_path / "s" / "shards.json", shard_tiles=2)
    assert json.loads((tmp_path / "s" / "shards.json").read_text())["shards"] == {
        k: len(v) for k, v in plan_shards(index_tiles(tree, 10)[0], 2).items()}
    torch.manual_seed(0)
    net = NetUpscaler(SR_NETS.build("rlfn", scale=2), 2, device="cpu")
    for shard in reversed(shards):
        run_shard(tmp_path / "index.csv", tree, tmp_path / "out", tmp_path / "s" / f"{shard}.json", net, shard=shard,
                  zoom=10, shard_tiles=2, batch_size=1)
    summary = finish_pyramid(tmp_path / "out", [tmp_path / "s" / f"{s}.json" for s in shards],
                             tmp_path / "out" / "summary.json", zoom=10, scale=2, row_scheme="tms", tile_dir=tree)
    assert summary["input_tiles"] == 19 and summary["shards"] == len(shards) == 9
    assert summary["output_tiles"] == {"11": 19 * 4}
    ref = upscale_pyramid(tree, tmp_path / "ref", net, zoom=10, shard_tiles=2, batch_size=1)
    assert ref["output_tiles"] == 19 * 4 and digest(tmp_path / "out") == digest(tmp_path / "ref")
    with pytest.raises(ValueError, match="holds no tile"):
        run_shard(tmp_path / "index.csv", tree, tmp_path / "out", tmp_path / "x.json", net, shard="9_9", zoom=10,
                  shard_tiles=2)


@pytest.mark.slow
def test_real_tiles_sharded_equals_unsharded_and_is_a_complete_z23_to_z25_pyramid(real_tiles, tmp_path):
    """Every real zoom-23 tile (max_tiles: null), Lanczos x4: shards of 4x4 tiles against one shard."""
    up = ClassicalUpscaler("lanczos", 4)
    sharded = upscale_pyramid(real_tiles, tmp_path / "sharded", up, zoom=23, shard_tiles=4, workers=2)
    whole = upscale_pyramid(real_tiles, tmp_path / "whole", up, zoom=23, shard_tiles=1 << 20)
    assert sharded["shards"] > 1 and whole["shards"] == 1
    assert digest(tmp_path / "sharded") == digest(tmp_path / "whole")
    records, _ = index_tiles(real_tiles, 23)
    assert sharded["input_tiles"] == len(records)
    # complete: under every z23 tile, each z24 and z25 tile that holds a valid pixel exists (and no other)
    from rockzoom.data.tiles import TILE_SIZE
    for r in records:
        rgba, _ = decode_tile_rgba(r.path)
        for level in (1, 2):
            n, z = 1 << level, 23 + level
            step = TILE_SIZE // n
            for j in range(n):
                for i in range(n):
                    has_data = rgba[j * step:(j + 1) * step, i * step:(i + 1) * step, 3].any()
                    path = tmp_path / "sharded" / str(z) / str(r.x * n + i) / f"{tms_to_xyz_row(z, r.y * n + j)}.png"
                    assert path.exists() == bool(has_data), path
    xml = (tmp_path / "sharded" / "tilemapresource.xml").read_text()
    assert 'href="24"' in xml and 'href="25"' in xml


def _tile_file(root, x, y, zoom=10):
    return root / str(zoom) / str(x) / f"{tms_to_xyz_row(zoom, y)}.png"


@pytest.fixture
def opened(monkeypatch):
    """Every image file opened (PIL.Image.open), in order."""
    paths, real_open = [], Image.open

    def counting_open(fp, *args, **kwargs):
        paths.append(Path(fp))
        return real_open(fp, *args, **kwargs)

    monkeypatch.setattr(Image, "open", counting_open)
    return paths


def test_upscale_pyramid_opens_only_the_tiles_it_upscales_and_their_border(tmp_path, opened):
    """`rockzoom upscale-pyramid --max-tiles N` on a large tree: the tiles are listed from their names (or read from
    --index), and only the N tiles and their one-tile border are decoded, each once; a corrupt tile elsewhere in the
    tree is never opened. (It used to index, i.e. decode, the whole tree first: its cost grew with the tree.)"""
    tree = tmp_path / "in"
    make_tree(tree)
    _tile_file(tree, 105, 206).write_bytes(b"not a png")  # far from the selected region
    up = ClassicalUpscaler("bicubic", 2)
    region = sorted(_tile_file(tree, x, y) for x in (101, 102) for y in (203, 204, 205))
    info = upscale_pyramid(tree, tmp_path / "names", up, zoom=10, max_tiles=2)
    assert info["input_tiles"] == 2 and info["output_tiles"] == 8
    assert sorted(opened) == region  # the first two tiles in (x, y) order, x=101 y=203..204, and their border

    from rockzoom.data.tiles import build_index

    build_index(tree, 10, tmp_path / "index.csv", tmp_path / "rejected.csv")
    opened.clear()
    by_index = upscale_pyramid(tree, tmp_path / "indexed", up, zoom=10, max_tiles=2, index_csv=tmp_path / "index.csv")
    assert sorted(opened) == region and by_index["input_tiles"] == 2
    assert digest(tmp_path / "indexed") == digest(tmp_path / "names")


def test_a_tile_that_does_not_decode_is_a_missing_tile(tmp_path):
    """Listed from names, a corrupt tile is skipped (counted) and its neighbours see no context from it: the same
    pyramid as the tree without that file."""
    make_tree(tmp_path / "in")
    make_tree(tmp_path / "ref")
    _tile_file(tmp_path / "in", 102, 204).write_bytes(b"not a png")
    _tile_file(tmp_path / "ref", 102, 204).unlink()
    up = ClassicalUpscaler("bicubic", 2)
    got = upscale_pyramid(tmp_path / "in", tmp_path / "out", up, zoom=10, shard_tiles=2)
    ref = upscale_pyramid(tmp_path / "ref", tmp_path / "out_ref", up, zoom=10, shard_tiles=2)
    assert got["input_tiles"] == ref["input_tiles"] == 18 and got["skipped_files"] == 1
    assert digest(tmp_path / "out") == digest(tmp_path / "out_ref")
