"""Super-resolved tile pyramids: zoom z tiles in, zoom z + log2(scale) tiles out, in the same row order.

Each tile is upscaled with `context` pixels of its real neighbours around it (edge-replicated where a neighbour is
missing), and only its own area is kept, so neighbouring output tiles meet without seams: along a shared border both
saw the same pixels. No-data stays no-data: alpha is upscaled by pixel replication, and no-data pixels are replaced by
the mean valid colour before upscaling so they do not darken their surroundings.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PIL import Image

from rockzoom.data.demo import TILEMAP_XML
from rockzoom.data.tiles import (
    TILE_SIZE,
    TileRecord,
    decode_tile_rgba,
    index_tiles,
    resolve_scheme,
    tms_to_xyz_row,
)
from rockzoom.superres.upscale import Upscaler

logger = logging.getLogger(__name__)


def _context_canvas(by_key: dict[tuple[int, int], TileRecord], x: int, y: int, context: int) -> np.ndarray:
    """RGBA canvas of the tile at (x, y) plus `context` pixels of each neighbour."""
    center, _ = decode_tile_rgba(by_key[(x, y)].path)
    canvas = np.pad(center, ((context, context), (context, context), (0, 0)), mode="edge")
    size = TILE_SIZE + 2 * context
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if (dx, dy) == (0, 0) or (x + dx, y + dy) not in by_key:
                continue
            tile, _ = decode_tile_rgba(by_key[(x + dx, y + dy)].path)
            # Canvas rows/cols covered by this neighbour, and the matching rows/cols inside the neighbour tile.
            cy0, cy1 = max(0, context + dy * TILE_SIZE), min(size, context + (dy + 1) * TILE_SIZE)
            cx0, cx1 = max(0, context + dx * TILE_SIZE), min(size, context + (dx + 1) * TILE_SIZE)
            ty0, tx0 = cy0 - (context + dy * TILE_SIZE), cx0 - (context + dx * TILE_SIZE)
            canvas[cy0:cy1, cx0:cx1] = tile[ty0:ty0 + (cy1 - cy0), tx0:tx0 + (cx1 - cx0)]
    return canvas


def _fill_no_data(rgba: np.ndarray) -> np.ndarray:
    rgb = rgba[..., :3].astype(np.float32) / 255.0
    valid = rgba[..., 3] > 0
    if valid.any() and not valid.all():
        rgb[~valid] = rgb[valid].mean(axis=0)
    return rgb


def upscale_tile(by_key: dict[tuple[int, int], TileRecord], x: int, y: int, upscaler: Upscaler,
                 context: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Upscale one tile with neighbour context; returns (rgb uint8, alpha uint8) of (256*s)^2 pixels."""
    s = upscaler.scale
    canvas = _context_canvas(by_key, x, y, context)
    up = upscaler.upscale(_fill_no_data(canvas))
    core = up[context * s:(context + TILE_SIZE) * s, context * s:(context + TILE_SIZE) * s]
    alpha = canvas[context:context + TILE_SIZE, context:context + TILE_SIZE, 3]
    alpha = alpha.repeat(s, 0).repeat(s, 1)
    rgb = np.rint(np.clip(core, 0, 1) * 255).astype(np.uint8)
    rgb[alpha == 0] = 0
    return rgb, alpha


def upscale_pyramid(tile_dir: str | Path, out_dir: str | Path, upscaler: Upscaler, *, zoom: int,
                    scheme: str = "auto", context: int = 16, max_tiles: int | None = None) -> dict:
    """The `upscale_pyramid` stage. Returns counts; output rows follow the input's scheme (TMS or XYZ)."""
    s = upscaler.scale
    if s < 2 or s & (s - 1):
        raise ValueError(f"a pyramid needs a power-of-two scale (x2 = one zoom level), got x{s}")
    levels = s.bit_length() - 1
    out_zoom = zoom + levels
    out_dir = Path(out_dir)
    row_scheme = resolve_scheme(tile_dir, scheme)
    records, rejected = index_tiles(tile_dir, zoom, scheme=row_scheme)
    by_key = {(r.x, r.y): r for r in records}
    todo = records[:max_tiles] if max_tiles else records
    written = 0
    for n, r in enumerate(todo, 1):
        rgb, alpha = upscale_tile(by_key, r.x, r.y, upscaler, context)
        for j in range(s):
            for i in range(s):
                a = alpha[j * TILE_SIZE:(j + 1) * TILE_SIZE, i * TILE_SIZE:(i + 1) * TILE_SIZE]
                if not a.any():
                    continue
                ox, oy = r.x * s + i, r.y * s + j
                row = tms_to_xyz_row(out_zoom, oy) if row_scheme == "tms" else oy
                path = out_dir / str(out_zoom) / str(ox) / f"{row}.png"
                path.parent.mkdir(parents=True, exist_ok=True)
                tile = np.dstack([rgb[j * TILE_SIZE:(j + 1) * TILE_SIZE, i * TILE_SIZE:(i + 1) * TILE_SIZE], a])
                Image.fromarray(tile, "RGBA").save(path, compress_level=1)
                written += 1
        if n % 25 == 0 or n == len(todo):
            logger.info(f"upscaled {n}/{len(todo)} zoom-{zoom} tiles -> {written} zoom-{out_zoom} tiles")
    if row_scheme == "tms":
        tileset = f'    <TileSet href="{out_zoom}" units-per-pixel="1" order="{out_zoom}" />'
        (out_dir / "tilemapresource.xml").write_text(TILEMAP_XML.format(tilesets=tileset))
    return {"input_tiles": len(todo), "skipped_files": len(rejected), "output_tiles": written,
            "input_zoom": zoom, "output_zoom": out_zoom, "scheme": row_scheme, "method": upscaler.name}


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
