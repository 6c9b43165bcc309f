"""LR images read from the tile tree's own coarser zoom (``sr.train.lr_source: pyramid``).

A gdal2tiles pyramid already holds the real low-resolution view of every HR mosaic: the zoom ``z - log2(scale)``
tiles, which gdal2tiles made by averaging the finer zoom. For a mosaic whose top-left pixel sits at global pixel
(X, Y) of zoom z (``{split}_samples.csv``: tile x, y plus offsets), its ×scale LR is the (S/scale)² window at
(X/scale, Y/scale) of the coarser zoom, cut from the tiles that cover it. An LR pixel is valid when the coarse tile
exists and its alpha is non-zero there. A GeoTIFF source has no coarser files: its zoom ``z - log2(scale)`` tiles are
cut from the orthomosaic on read, as its zoom-z tiles are.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rockzoom.data import geotiff_source
from rockzoom.data.tiles import (
    TILE_SIZE,
    TileError,
    decode_tile_rgba,
    read_index,
    tms_to_xyz_row,
)


@dataclass(frozen=True)
class TreeLayout:
    """Where a tree keeps its tiles: ``root/z/x/row.ext`` with rows in ``scheme`` (tms or xyz); or, with scheme
    ``geotiff``, ``root`` is an orthomosaic whose zoom-z tiles are cut on read (``data.geotiff_source``)."""
    root: Path
    scheme: str
    ext: str

    def tile_path(self, z: int, x: int, y: int) -> Path:
        row = tms_to_xyz_row(z, y) if self.scheme == "tms" else y
        return self.root / str(z) / str(x) / f"{row}{self.ext}"

    def read(self, z: int, x: int, y: int) -> np.ndarray | None:
        """The RGBA tile, or None where the tree has none (or it cannot be decoded)."""
        if self.scheme == "geotiff":
            try:
                rgba = decode_tile_rgba(geotiff_source.tile_ref(self.root, z, x, y))[0]
            except Exception:  # rio-tiler raises TileOutsideBounds (and friends) off the raster
                return None
            return rgba if rgba[..., 3].any() else None
        path = self.tile_path(z, x, y)
        try:
            return decode_tile_rgba(path)[0] if path.exists() else None
        except TileError:
            return None


def layout_from_index(index_csv: str | Path) -> TreeLayout:
    """The tree behind an ``index.csv``: its root, row scheme and file extension, read off its first tile."""
    records = read_index(index_csv)
    if not records:
        raise ValueError(f"{index_csv}: the index lists no tiles")
    r = records[0]
    ref = geotiff_source.parse_tile_ref(r.path)
    if ref is not None:
        return TreeLayout(root=Path(ref[0]), scheme="geotiff", ext="")
    path = Path(r.path)
    row = int(path.stem)
    scheme = "xyz" if row == r.y else "tms"
    return TreeLayout(root=path.parents[2], scheme=scheme, ext=path.suffix)


def read_samples(data_dir: str | Path, split: str) -> list[dict]:
    """The rows of ``{split}_samples.csv`` (same order as the split's arrays)."""
    path = Path(data_dir) / f"{split}_samples.csv"
    if not path.exists():
        raise FileNotFoundError(f"dataset file missing: {path} (run the build_dataset rule first)")
    with path.open(newline="") as fh:
        return [{k: int(v) for k, v in row.items() if k in ("z", "x", "y", "offset_x", "offset_y", "size")}
                for row in csv.DictReader(fh)]


def coarse_window(layout: TreeLayout, z: int, px: int, py: int, side: int, cache: dict) -> tuple[np.ndarray, np.ndarray]:
    """The side² RGBA window at global pixel (px, py) of zoom z -> (rgb uint8, valid bool); missing tiles invalid."""
    rgb = np.zeros((side, side, 3), np.uint8)
    valid = np.zeros((side, side), bool)
    for ty in range(py // TILE_SIZE, (py + side - 1) // TILE_SIZE + 1):
        for tx in range(px // TILE_SIZE, (px + side - 1) // TILE_SIZE + 1):
            key = (z, tx, ty)
            if key not in cache:
                cache[key] = layout.read(z, tx, ty)
            tile = cache[key]
            if tile is None:
                continue
            x0, y0 = max(px, tx * TILE_SIZE), max(py, ty * TILE_SIZE)
            x1, y1 = min(px + side, (tx + 1) * TILE_SIZE), min(py + side, (ty + 1) * TILE_SIZE)
            src = tile[y0 - ty * TILE_SIZE:y1 - ty * TILE_SIZE, x0 - tx * TILE_SIZE:x1 - tx * TILE_SIZE]
            rgb[y0 - py:y1 - py, x0 - px:x1 - px] = src[..., :3]
            valid[y0 - py:y1 - py, x0 - px:x1 - px] = src[..., 3] > 0
    return rgb, valid


def pyramid_lr(samples: list[dict], layout: TreeLayout, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """The coarser-zoom LR of each sample -> (uint8 (N, S/scale, S/scale, 3), valid bool (N, S/scale, S/scale))."""
    levels = scale.bit_length() - 1
    if scale < 2 or 1 << levels != scale:
        raise ValueError(f"sr.train.lr_source: pyramid needs a power-of-two scale, got {scale}")
    n = len(samples)
    if n == 0:
        return np.zeros((0, 0, 0, 3), np.uint8), np.zeros((0, 0, 0), bool)
    side = samples[0]["size"] // scale
    lr = np.empty((n, side, side, 3), np.uint8)
    valid = np.empty((n, side, side), bool)
    cache: dict = {}
    for i, s in enumerate(samples):
        px, py = s["x"] * TILE_SIZE + s["offset_x"], s["y"] * TILE_SIZE + s["offset_y"]
        if px % scale or py % scale:
            raise ValueError(f"sample at tile ({s['x']}, {s['y']}) offset ({s['offset_x']}, {s['offset_y']}) is not "
                             f"aligned to the x{scale} grid of zoom {s['z'] - levels}")
        lr[i], valid[i] = coarse_window(layout, s["z"] - levels, px // scale, py // scale, side, cache)
        if len(cache) > 64:
            cache.clear()
    if not valid.any():
        raise ValueError(f"lr_source pyramid: no zoom-{samples[0]['z'] - levels} tile under {layout.root} covers the "
                         f"samples; the tree needs its coarser zooms (or set sr.train.lr_source: bicubic)")
    return lr, valid
