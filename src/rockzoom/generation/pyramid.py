"""Super-resolved tile pyramids: zoom z tiles in, zoom z + log2(scale) tiles out, in the same row order.

Each tile is upscaled with `context` pixels of its real neighbours around it (edge-replicated where a neighbour is
missing), and only its own area is kept, so neighbouring output tiles meet without seams: along a shared border both
saw the same pixels. No-data stays no-data: alpha is upscaled by pixel replication, and no-data pixels are replaced by
the mean valid colour before upscaling so they do not darken their surroundings.
"""
from __future__ import annotations

import json
import logging
import os
import sys
import zlib
from concurrent.futures import ProcessPoolExecutor
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image

from rockzoom.data import geotiff_source
from rockzoom.data.tilemap import tilemap_xml
from rockzoom.generation.map_page import pyramid_layers, write_map_page
from rockzoom.data.tiles import (
    TILE_SIZE,
    TileError,
    TileRecord,
    decode_tile_rgba,
    index_tiles,
    list_tile_files,
    read_index,
    resolve_scheme,
    tms_to_xyz_row,
)
from rockzoom.superres.upscale import Upscaler
from rockzoom.util.progress import progress_bar

logger = logging.getLogger(__name__)


class TileFiles(NamedTuple):
    """One tile position and its files in path order: the first that decodes is the tile (as the index keeps it)."""
    x: int
    y: int
    paths: tuple[str, ...]


def _as_files(records: Iterable[TileRecord | TileFiles]) -> list[TileFiles]:
    return [r if isinstance(r, TileFiles) else TileFiles(r.x, r.y, (r.path,)) for r in records]


def tiles_from_names(tile_dir: str | Path, zoom: int,
                     scheme: str = "auto") -> tuple[list[TileFiles], list[tuple[str, str]]]:
    """The tile positions of tile_dir/zoom in (x, y) order from the file names alone (no tile is decoded), and
    (path, reason) of the files not named as tiles."""
    named, unnamed = list_tile_files(tile_dir, zoom, scheme)
    paths: dict[tuple[int, int], list[str]] = {}
    for path, x, y in named:
        paths.setdefault((x, y), []).append(str(path))
    return [TileFiles(x, y, tuple(p)) for (x, y), p in paths.items()], [(str(p), r) for p, r in unnamed]


def tiles_from_index(index_csv: str | Path, zoom: int) -> list[TileFiles]:
    """The tile positions of an index.csv (the `index_tiles` stage's), in its (x, y) order."""
    records = read_index(index_csv)
    zooms = sorted({r.z for r in records} - {zoom})
    if zooms:
        raise ValueError(f"{index_csv} indexes zoom {zooms[0]}, not the requested zoom {zoom}")
    return _as_files(records)


def _border(tiles: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
    """The tiles and every neighbour of them (the one-tile context border)."""
    return {(x + dx, y + dy) for x, y in tiles for dx in (-1, 0, 1) for dy in (-1, 0, 1)}


def _files_near(by_key: dict[tuple[int, int], TileFiles], tiles: Iterable[tuple[int, int]]) -> list[TileFiles]:
    """Only what one shard reads: its tiles' files and their border's (not the whole tree's list)."""
    return [by_key[k] for k in sorted(_border(tiles)) if k in by_key]


def _decode_window(files: Sequence[TileFiles]) -> tuple[dict[tuple[int, int], np.ndarray], list[tuple[str, str]]]:
    """Decode each position once: its first file that decodes. A position none of whose files decodes is missing
    (no tile, no context), as the index refuses it. Returns the window and (path, reason) of the refused files."""
    window: dict[tuple[int, int], np.ndarray] = {}
    refused: list[tuple[str, str]] = []
    for f in files:
        for path in f.paths:
            try:
                window[(f.x, f.y)] = decode_tile_rgba(path)[0]
                break
            except TileError as exc:
                logger.warning(f"skipped {path}: {exc}")
                refused.append((path, str(exc)))
    return window, refused


def _fill_no_data(rgba: np.ndarray) -> np.ndarray:
    rgb = rgba[..., :3].astype(np.float32) / 255.0
    valid = rgba[..., 3] > 0
    if valid.any() and not valid.all():
        rgb[~valid] = rgb[valid].mean(axis=0)
    return rgb


def _check_scale(s: int) -> int:
    if s < 2 or s & (s - 1):
        raise ValueError(f"a pyramid needs a power-of-two scale (x2 = one zoom level), got x{s}")
    return s.bit_length() - 1


def shard_id(x: int, y: int, shard_tiles: int) -> str:
    return f"{x // shard_tiles}_{y // shard_tiles}"


def plan_shards(records: Sequence[TileRecord | TileFiles], shard_tiles: int,
                max_tiles: int | None = None) -> dict[str, list[tuple[int, int]]]:
    """The tiles to upscale (the first max_tiles in (x, y) order, or all), grouped in aligned squares of
    shard_tiles x shard_tiles input tiles: {shard id: [(x, y), ...]}."""
    if shard_tiles < 1:
        raise ValueError(f"pyramid.shard_tiles must be >= 1, got {shard_tiles}")
    todo = records[:max_tiles] if max_tiles else records
    shards: dict[str, list[tuple[int, int]]] = {}
    for r in todo:
        shards.setdefault(shard_id(r.x, r.y, shard_tiles), []).append((r.x, r.y))
    return dict(sorted(shards.items()))


def write_shard_list(index_csv: str | Path, shards_json: str | Path, *, shard_tiles: int,
                     max_tiles: int | None = None) -> list[str]:
    """The `pyramid_shards` stage: the shard ids (and their tile counts) of the indexed tree."""
    shards = plan_shards(read_index(index_csv), shard_tiles, max_tiles)
    _atomic_text(Path(shards_json), json.dumps({"shard_tiles": shard_tiles, "max_tiles": max_tiles,
                                                "shards": {k: len(v) for k, v in shards.items()}}, indent=2))
    logger.info(f"{sum(map(len, shards.values()))} tiles in {len(shards)} shards of up to {shard_tiles}^2 tiles")
    return list(shards)


def _atomic_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _save_png(tile: np.ndarray, path: Path) -> None:
    """Write one RGBA tile through a temporary name, so a killed job leaves no half-written tile. zlib's Huffman-only
    strategy (Pillow's `compress_type`): upscaled tiles have little for LZ77 to match, so it is both faster and
    smaller than level 1's default (real x4 tiles: 3.9 vs 5.2 ms, 82 vs 95 KB; lossless either way)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    Image.fromarray(tile, "RGBA").save(tmp, compress_level=1, compress_type=zlib.Z_HUFFMAN_ONLY)
    os.replace(tmp, path)


def _window_canvas(window: dict[tuple[int, int], np.ndarray], x: int, y: int, context: int) -> np.ndarray:
    """RGBA canvas of the tile at (x, y) plus `context` pixels of each neighbour present in `window` (the tile's own
    edge pixels repeated where a neighbour is missing)."""
    canvas = np.pad(window[(x, y)], ((context, context), (context, context), (0, 0)), mode="edge")
    size = TILE_SIZE + 2 * context
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            tile = window.get((x + dx, y + dy))
            if (dx, dy) == (0, 0) or tile is None:
                continue
            cy0, cy1 = max(0, context + dy * TILE_SIZE), min(size, context + (dy + 1) * TILE_SIZE)
            cx0, cx1 = max(0, context + dx * TILE_SIZE), min(size, context + (dx + 1) * TILE_SIZE)
            ty0, tx0 = cy0 - (context + dy * TILE_SIZE), cx0 - (context + dx * TILE_SIZE)
            canvas[cy0:cy1, cx0:cx1] = tile[ty0:ty0 + (cy1 - cy0), tx0:tx0 + (cx1 - cx0)]
    return canvas


def average_2x2(rgba: np.ndarray) -> np.ndarray:
    """One zoom level up, as gdal2tiles builds overviews (average of each 2x2 block), weighted by alpha so no-data
    does not darken valid pixels: rgb = sum(rgb*a)/sum(a), alpha = mean(a), rounded half up."""
    quads = (rgba[0::2, 0::2], rgba[0::2, 1::2], rgba[1::2, 0::2], rgba[1::2, 1::2])
    out = np.empty(quads[0].shape, np.uint8)
    if rgba[..., 3].min() == 255:  # opaque (most tiles): the weights cancel, (sum + 2) // 4 in uint16
        total = quads[0].astype(np.uint16)
        for q in quads[1:]:
            total += q
        total += 2
        total //= 4
        out[:] = total
        return out
    alphas = [q[..., 3:4].astype(np.uint32) for q in quads]
    a = alphas[0] + alphas[1] + alphas[2] + alphas[3]
    prem = sum(q[..., :3] * w for q, w in zip(quads, alphas))  # uint32: at most 4 * 255 * 255
    out[..., :3] = np.where(a > 0, (2 * prem + a) // np.maximum(2 * a, 1), 0)
    out[..., 3] = ((a + 2) // 4)[..., 0]
    return out


def _tile_path(out_dir: Path, z: int, x: int, y: int, row_scheme: str) -> Path:
    row = tms_to_xyz_row(z, y) if row_scheme == "tms" else y
    return out_dir / str(z) / str(x) / f"{row}.png"


def _write_tile_levels(out_dir: Path, rgba: np.ndarray, x: int, y: int, zoom: int, levels: int,
                       row_scheme: str) -> dict[int, int]:
    """Write one input tile's upscaled area as the new finest zoom and, averaged, every zoom between (counts)."""
    written: dict[int, int] = {}
    for level in range(levels, 0, -1):
        n, z = 1 << level, zoom + level
        for j in range(n):
            for i in range(n):
                tile = rgba[j * TILE_SIZE:(j + 1) * TILE_SIZE, i * TILE_SIZE:(i + 1) * TILE_SIZE]
                if tile[..., 3].any():  # like gdal2tiles: no fully transparent tile
                    _save_png(tile, _tile_path(out_dir, z, x * n + i, y * n + j, row_scheme))
                    written[z] = written.get(z, 0) + 1
        if level > 1:
            rgba = average_2x2(rgba)
    return written


def _tile_rgba(up: np.ndarray, canvas: np.ndarray, context: int, s: int) -> np.ndarray:
    """The tile's own area of an upscaled context canvas as uint8 RGBA (alpha by pixel replication, no-data black).
    Rounds in place in `up`: on two cores, fresh 16 MB temporaries per tile cost more than the arithmetic."""
    core = up[context * s:(context + TILE_SIZE) * s, context * s:(context + TILE_SIZE) * s]
    np.clip(core, 0, 1, out=core)
    core *= 255
    np.rint(core, out=core)
    rgba = np.empty((TILE_SIZE * s, TILE_SIZE * s, 4), np.uint8)
    rgba[..., :3] = core
    alpha = canvas[context:context + TILE_SIZE, context:context + TILE_SIZE, 3]
    rgba[..., 3] = alpha.repeat(s, 0).repeat(s, 1)
    rgba[rgba[..., 3] == 0, :3] = 0
    return rgba


def upscale_shard(records: Sequence[TileRecord | TileFiles], tiles: list[tuple[int, int]], out_dir: str | Path,
                  upscaler: Upscaler, *, zoom: int, row_scheme: str, context: int = 16,
                  batch_size: int = 8) -> dict:
    """Upscale one shard: its tiles and a one-tile border are decoded once into memory (nothing else of `records` is
    read; a tile that does not decode is skipped and is no neighbour's context), the upscaler runs on batches of
    context canvases, and every output tile is written atomically. Returns counts per output zoom and the files
    skipped."""
    levels = _check_scale(upscaler.scale)
    s = upscaler.scale
    by_key = {(f.x, f.y): f for f in _as_files(records)}
    window, refused = _decode_window(_files_near(by_key, tiles))
    tiles = [t for t in tiles if t in window]
    written: dict[int, int] = {}
    out_dir = Path(out_dir)
    for start in range(0, len(tiles), batch_size):
        batch = tiles[start:start + batch_size]
        canvases = [_window_canvas(window, x, y, context) for x, y in batch]
        ups = upscaler.upscale_batch([_fill_no_data(c) for c in canvases])
        for (x, y), canvas, up in zip(batch, canvases, ups):
            for z, k in _write_tile_levels(out_dir, _tile_rgba(up, canvas, context, s), x, y, zoom, levels,
                                           row_scheme).items():
                written[z] = written.get(z, 0) + k
    return {"input_tiles": len(tiles), "output_tiles": {str(z): k for z, k in sorted(written.items())},
            "skipped_files": [list(r) for r in refused]}


def run_shard(index_csv: str | Path, tile_dir: str | Path, out_dir: str | Path, shard_json: str | Path,
              upscaler: Upscaler, *, shard: str, zoom: int, scheme: str = "auto", context: int = 16,
              shard_tiles: int = 16, batch_size: int = 8, max_tiles: int | None = None) -> dict:
    """The `upscale_pyramid_shard` stage: upscale one shard of the indexed tree; its record is written last."""
    records = _as_files(read_index(index_csv))
    tiles = plan_shards(records, shard_tiles, max_tiles).get(shard)
    if tiles is None:
        raise ValueError(f"pyramid shard {shard!r} holds no tile of {index_csv} (shard_tiles={shard_tiles})")
    info = upscale_shard(records, tiles, out_dir, upscaler, zoom=zoom, row_scheme=resolve_scheme(tile_dir, scheme),
                         context=context, batch_size=batch_size)
    info.update(shard=shard, method=upscaler.name)
    _atomic_text(Path(shard_json), json.dumps(info, indent=2))
    logger.info(f"shard {shard}: {info['input_tiles']} zoom-{zoom} tiles -> {info['output_tiles']}")
    return info


def write_pyramid_metadata(out_dir: str | Path, tile_dir: str | Path, *, zoom: int, scale: int, row_scheme: str,
                           method: str, others: Sequence[tuple[str, str | Path]] = ()) -> Path:
    """Beside the pyramid in out_dir: gdal2tiles' tilemapresource.xml for the new zooms z+1 .. z+log2(scale) (a TMS
    tree), with its bounding box, and the map page (index.html: the input tree, this pyramid and `others` =
    [(method, dir)] of the same input as layers, swiped against each other). Returns the page's path."""
    levels = _check_scale(scale)
    out_dir = Path(out_dir)
    layers, main, notes = pyramid_layers(out_dir, tile_dir, zoom=zoom, scale=scale, row_scheme=row_scheme,
                                         method=method, others=others)
    if row_scheme == "tms":
        cov = layers[main].finest
        title = f"rockzoom x{scale} super-resolution of zoom {zoom} ({method})"
        _atomic_text(out_dir / "tilemapresource.xml",
                     tilemap_xml(title, list(range(zoom + 1, zoom + levels + 1)),
                                 cov.lonlat_bounds() if cov is not None else None))
    return write_map_page(out_dir, f"rockzoom: zoom {zoom} to {zoom + levels} ({method} x{scale})", layers,
                          start_zoom=zoom, right=main, notes=notes)


def finish_pyramid(out_dir: str | Path, shard_jsons: list[str | Path], summary_json: str | Path, *, zoom: int,
                   scale: int, row_scheme: str, tile_dir: str | Path,
                   others: Sequence[tuple[str, str | Path]] = ()) -> dict:
    """The final `upscale_pyramid` stage: the summary of all shards, tilemapresource.xml (TMS) for the new zooms and
    the map page (`write_pyramid_metadata`; `others` = [(method, dir)], more pyramids of the same input)."""
    levels = _check_scale(scale)
    out_dir = Path(out_dir)
    shards = [json.loads(Path(p).read_text()) for p in shard_jsons]
    totals: dict[str, int] = {}
    for info in shards:
        for z, k in info["output_tiles"].items():
            totals[z] = totals.get(z, 0) + k
    method = shards[0]["method"] if shards else "upscaled"
    write_pyramid_metadata(out_dir, tile_dir, zoom=zoom, scale=scale, row_scheme=row_scheme, method=method,
                           others=others)
    summary = {"input_tiles": sum(i["input_tiles"] for i in shards), "output_tiles": totals,
               "input_zoom": zoom, "output_zoom": zoom + levels, "zooms": list(range(zoom + 1, zoom + levels + 1)),
               "scheme": row_scheme, "method": method if shards else None, "shards": len(shards),
               "page": "index.html"}
    _atomic_text(Path(summary_json), json.dumps(summary, indent=2))
    return summary


def _one_torch_thread() -> None:
    """Pool initializer: the workers are the parallelism. A forked worker has torch only if the upscaler needed it."""
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


def _shard_task(args: tuple) -> dict:
    return upscale_shard(*args[:4], **args[4])


def _pyramid_tiles(tile_dir: str | Path, zoom: int, row_scheme: str,
                   index_csv: str | Path | None) -> tuple[list[TileRecord | TileFiles], list[tuple[str, str]]]:
    """What the command may upscale, found without decoding the tree: the rows of `index_csv`, else the tree's tile
    files by name (a GeoTIFF's tiles are cut from the raster by its index). Also (path, reason) of unusable files."""
    if index_csv is not None:
        return tiles_from_index(index_csv, zoom), []
    if geotiff_source.is_geotiff(tile_dir):
        return index_tiles(tile_dir, zoom)
    return tiles_from_names(tile_dir, zoom, row_scheme)


def upscale_pyramid(tile_dir: str | Path, out_dir: str | Path, upscaler: Upscaler, *, zoom: int,
                    scheme: str = "auto", context: int = 16, max_tiles: int | None = None,
                    shard_tiles: int = 16, batch_size: int = 8, workers: int = 1,
                    index_csv: str | Path | None = None) -> dict:
    """Every shard here (in `workers` processes), then the summary: the `rockzoom upscale-pyramid` command (the
    workflow runs one job per shard). The tiles are listed from `index_csv` (the workflow's index.csv) or from the
    tree's file names, and only those upscaled and their one-tile border are decoded, so the cost of `max_tiles`
    tiles does not depend on the size of the tree. From names, a selected tile that does not decode is skipped
    (counted in `skipped_files`, with the files not named as tiles), so fewer than `max_tiles` may be upscaled.
    Output rows follow the input's scheme (TMS or XYZ); zooms z+1 .. z+log2(scale) are written. The tiles are the
    same for any shard size and number of workers."""
    levels = _check_scale(upscaler.scale)
    out_dir = Path(out_dir)
    row_scheme = resolve_scheme(tile_dir, scheme)
    records, rejected = _pyramid_tiles(tile_dir, zoom, row_scheme, index_csv)
    shards = plan_shards(records, shard_tiles, max_tiles)
    by_key = {(f.x, f.y): f for f in _as_files(records)}
    kw = dict(zoom=zoom, row_scheme=row_scheme, context=context, batch_size=batch_size)
    tasks = [(_files_near(by_key, tiles), tiles, out_dir, upscaler, kw) for tiles in shards.values()]
    totals: dict[int, int] = {}
    done, refused = 0, set()
    with progress_bar(sum(map(len, shards.values())), f"upscale z{zoom} x{upscaler.scale}", unit="tile") as bar:
        pool = (ProcessPoolExecutor(max_workers=workers, initializer=_one_torch_thread)
                if workers > 1 and len(tasks) > 1 else None)
        try:
            results = pool.map(_shard_task, tasks) if pool else map(_shard_task, tasks)
            for tiles, info in zip(shards.values(), results):
                for z, k in info["output_tiles"].items():
                    totals[int(z)] = totals.get(int(z), 0) + k
                done += info["input_tiles"]
                refused.update(tuple(r) for r in info["skipped_files"])  # a border tile is read by each neighbour shard
                bar.update(len(tiles))
        finally:
            if pool:
                pool.shutdown()
    write_pyramid_metadata(out_dir, tile_dir, zoom=zoom, scale=upscaler.scale, row_scheme=row_scheme,
                           method=upscaler.name)
    out_zoom = zoom + levels
    logger.info(f"upscaled {done} zoom-{zoom} tiles in {len(shards)} shards; skipped {len(rejected) + len(refused)} "
                f"files ({len(refused)} that do not decode)")
    return {"input_tiles": done, "skipped_files": len(rejected) + len(refused),
            "output_tiles": totals.get(out_zoom, 0), "intermediate_tiles": {z: k for z, k in totals.items() if z != out_zoom},
            "input_zoom": zoom, "output_zoom": out_zoom, "scheme": row_scheme, "method": upscaler.name,
            "shards": len(shards)}


def mosaic(tile_dir: str | Path, zoom: int, scheme: str = "auto") -> tuple[np.ndarray, tuple[int, int]]:
    """Stitch every tile of one zoom into one RGBA array (for inspection and seam tests); returns (array, (x0, y0))."""
    records, _ = index_tiles(tile_dir, zoom, scheme=scheme)
    xs, ys = [r.x for r in records], [r.y for r in records]
    x0, y0 = min(xs), min(ys)
    out = np.zeros(((max(ys) - y0 + 1) * TILE_SIZE, (max(xs) - x0 + 1) * TILE_SIZE, 4), np.uint8)
    for r in records:
        tile, _ = decode_tile_rgba(r.path)
        out[(r.y - y0) * TILE_SIZE:(r.y - y0 + 1) * TILE_SIZE, (r.x - x0) * TILE_SIZE:(r.x - x0 + 1) * TILE_SIZE] = tile
    return out, (x0, y0)
