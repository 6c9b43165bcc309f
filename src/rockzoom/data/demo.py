"""A deterministic procedural rock field written as a gdal2tiles-style TMS RGBA pyramid.

This is the embedded default a new user runs first: soil texture at several scales, boulders with shading and cast
shadows, shrubs, and one no-data region (alpha 0) along an edge, as a real survey has.
"""
from __future__ import annotations

import logging
import shutil
from functools import lru_cache
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from rockzoom.data.tilemap import tilemap_xml
from rockzoom.data.tiles import TILE_SIZE, tms_to_xyz_row
from rockzoom.util.progress import progress

logger = logging.getLogger(__name__)

# Around the real survey's position at zoom 23; any position works.
ORIGIN_X, ORIGIN_Y = 1_400_000, 3_260_000
_L = np.array([-0.55, -0.45, 0.70])
LIGHT = tuple(float(v) for v in _L / np.linalg.norm(_L))  # from the upper left, ~45 degrees high (python floats keep float32 math)


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cell: int) -> np.ndarray:
    """Value noise: a coarse random grid bicubically enlarged (by PIL, in C), zero mean, unit-ish spread."""
    h, w = shape
    gh, gw = h // cell + 2, w // cell + 2
    grid = rng.standard_normal((gh, gw)).astype(np.float32)
    big = Image.fromarray(grid, mode="F").resize((gw * cell, gh * cell), Image.BICUBIC)
    return np.asarray(big)[:h, :w]


def _fractal(rng: np.random.Generator, shape: tuple[int, int], cells: list[int], gains: list[float]) -> np.ndarray:
    out = np.zeros(shape, np.float32)
    for cell, gain in zip(cells, gains):
        out += gain * _smooth_noise(rng, shape, cell)
    return out


def _stamp_rocks(rng, height, albedo, tint, n_rocks, r_min, r_max):
    """Add ellipsoidal boulders (lumpy domes) to the height field and paint their albedo/tint."""
    h, w = height.shape
    for _ in range(n_rocks):
        r = float(rng.uniform(r_min, r_max) if rng.random() < 0.85 else rng.uniform(r_max, 2.2 * r_max))
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        ax, ay, ang = r * rng.uniform(0.7, 1.3), r * rng.uniform(0.6, 1.1), rng.uniform(0, np.pi)
        y0, y1 = int(max(cy - 1.5 * r, 0)), int(min(cy + 1.5 * r, h))
        x0, x1 = int(max(cx - 1.5 * r, 0)), int(min(cx + 1.5 * r, w))
        if y1 <= y0 or x1 <= x0:
            continue
        yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        dx, dy = xx - cx, yy - cy
        u = (dx * np.cos(ang) + dy * np.sin(ang)) / ax
        v = (-dx * np.sin(ang) + dy * np.cos(ang)) / ay
        theta = np.arctan2(v, u)
        lump = 1 + 0.18 * np.sin(3 * theta + rng.uniform(0, 6)) + 0.1 * np.sin(5 * theta + rng.uniform(0, 6))
        d2 = (u * u + v * v) / (lump * lump)
        inside = d2 < 1
        if not inside.any():
            continue
        dome = r * 0.9 * np.sqrt(np.clip(1 - d2, 0, 1)) ** 0.8
        region = height[y0:y1, x0:x1]
        np.maximum(region, np.where(inside, dome, -np.inf), out=region)
        shade = rng.uniform(0.55, 1.05)
        albedo[y0:y1, x0:x1][inside] = shade
        tint[y0:y1, x0:x1][inside] = rng.integers(0, 3)


def render_field(width: int, height: int, seed: int | list[int] = 0) -> np.ndarray:
    """Render an RGBA uint8 rock field of width x height pixels (deterministic for a seed)."""
    rng = np.random.default_rng(seed)
    shape = (height, width)
    relief = _fractal(rng, shape, [256, 48, 8], [6.0, 1.6, 0.4])
    albedo = np.ones(shape, np.float32)
    tint = np.full(shape, -1, np.int8)  # -1 soil, 0..2 rock colours, 3 shrub
    area = width * height
    _stamp_rocks(rng, relief, albedo, tint, n_rocks=int(area / 9000), r_min=6, r_max=22)
    _stamp_rocks(rng, relief, albedo, tint, n_rocks=int(area / 120000), r_min=30, r_max=70)
    # Shrubs: small bumpy dark-green clumps, slightly raised so they cast short shadows.
    shrub_field = _smooth_noise(rng, shape, 10) + 0.6 * _smooth_noise(rng, shape, 4)
    shrub_zone = _smooth_noise(rng, shape, 200) > 0.6
    shrubs = (shrub_field > 1.6) & shrub_zone & (tint < 0)
    relief = np.where(shrubs, relief + 4 + 2 * shrub_field, relief)
    tint[shrubs] = 3

    gy, gx = np.gradient(relief)
    normal_len = np.sqrt(gx * gx + gy * gy + 1)
    lambert = np.clip((-gx * LIGHT[0] - gy * LIGHT[1] + LIGHT[2]) / normal_len, 0, 1)
    shadow = _cast_shadow(relief)
    light = 0.25 + 0.75 * lambert * (1 - 0.7 * shadow)

    soil_var = _fractal(rng, shape, [512, 96, 12], [0.06, 0.05, 0.05])
    palette = np.array([
        [0.72, 0.60, 0.46],  # sandy soil (tint -1)
        [0.55, 0.52, 0.50],  # grey granite
        [0.62, 0.47, 0.38],  # reddish rock
        [0.40, 0.38, 0.36],  # dark basalt
        [0.22, 0.30, 0.14],  # shrub
    ], np.float32)
    grain = 0.05 * _smooth_noise(rng, shape, 3) + 0.04 * rng.standard_normal(shape, dtype=np.float32)
    rgb = palette[tint + 1]
    rgb *= (albedo * light * (1 + soil_var + grain))[..., None]
    rgba = np.empty(shape + (4,), np.uint8)
    rgba[..., :3] = np.clip(rgb * 255 + 0.5, 0, 255).astype(np.uint8)
    rgba[..., 3] = np.where(_nodata_region(rng, shape), 0, 255)
    rgba[rgba[..., 3] == 0, :3] = 0
    return rgba


def _cast_shadow(relief: np.ndarray, steps: int = 24, step_px: int = 2) -> np.ndarray:
    """Soft shadow mask in [0,1]: a pixel is shadowed when terrain toward the light rises above the light ray.
    Computed at half resolution (shadows are smooth) and enlarged."""
    small = np.asarray(Image.fromarray(relief, mode="F").reduce(2))
    h, w = small.shape
    horizon = np.full_like(small, -np.inf)
    horizontal = float(np.hypot(LIGHT[0], LIGHT[1]))
    dir_xy = (-LIGHT[0] / horizontal, -LIGHT[1] / horizontal)
    slope = LIGHT[2] / horizontal * 2  # height drop per half-res pixel along the ray
    for k in range(1, steps + 1):
        dx, dy = int(round(-dir_xy[0] * k * step_px)), int(round(-dir_xy[1] * k * step_px))
        shifted = np.full_like(small, -np.inf)
        ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
        xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
        shifted[yd, xd] = small[ys, xs] - np.float32(slope * k * step_px)
        np.maximum(horizon, shifted, out=horizon)
    mask = np.clip((horizon - small) / 3.0, 0, 1).astype(np.float32)
    big = Image.fromarray(mask, mode="F").resize((relief.shape[1], relief.shape[0]), Image.BILINEAR)
    return np.asarray(big)


def _nodata_region(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """An irregular no-data bite out of the right edge, like the ragged boundary of a real survey."""
    h, w = shape
    yy = np.arange(h, dtype=np.float32)[:, None]
    xx = np.arange(w, dtype=np.float32)[None, :]
    cy, ry = h * 0.2, h * 0.16
    edge = w - 0.09 * w * np.clip(1 - ((yy - cy) / ry) ** 2, 0, None) ** 0.5
    wobble = np.where(edge < w, 30 * _smooth_noise(rng, (h, 1), 64), 0)
    return xx > edge + wobble


def _save_tiles(jobs: list[tuple[np.ndarray, Path]]) -> None:
    for tile, path in jobs:
        Image.fromarray(tile, mode="RGBA").save(path, compress_level=1)


def _cut_levels(rgba: np.ndarray, out_dir: Path, zoom: int, x0: int, y0: int,
                levels: int) -> list[tuple[np.ndarray, Path]]:
    """The (tile, path) pairs of zoom `zoom` (XYZ origin x0, y0) and `levels - 1` coarser zooms, in TMS rows."""
    jobs: list[tuple[np.ndarray, Path]] = []
    image = Image.fromarray(rgba, mode="RGBA")
    for level in range(levels):
        z = zoom - level
        if level:
            # Premultiplied reduce keeps no-data from bleeding black into valid pixels.
            image = image.convert("RGBa").reduce(2).convert("RGBA")
            x0, y0 = x0 // 2, y0 // 2
        arr = np.asarray(image)
        rows, cols = arr.shape[0] // TILE_SIZE, arr.shape[1] // TILE_SIZE
        for c in range(cols):
            col_dir = out_dir / str(z) / str(x0 + c)
            col_dir.mkdir(parents=True, exist_ok=True)
            for r in range(rows):
                tile = arr[r * TILE_SIZE:(r + 1) * TILE_SIZE, c * TILE_SIZE:(c + 1) * TILE_SIZE]
                if tile[..., 3].any():  # gdal2tiles writes no fully transparent tiles
                    jobs.append((tile, col_dir / f"{tms_to_xyz_row(z, y0 + r)}.png"))
    return jobs


def _write_tilemap(out_dir: Path, zoom: int, levels: int) -> None:
    xml = tilemap_xml("rockzoom procedural demo field", [zoom - level for level in range(levels)])
    (out_dir / "tilemapresource.xml").write_text(xml)


def write_pyramid(rgba: np.ndarray, out_dir: str | Path, zoom: int, x0: int, y0: int, levels: int, workers: int = 2) -> int:
    """Cut zoom-`zoom` tiles (XYZ origin x0, y0) and `levels - 1` coarser zooms, named in TMS rows. Returns tile count."""
    out_dir = Path(out_dir)
    jobs = _cut_levels(rgba, out_dir, zoom, x0, y0, levels)
    # PNG encoding dominates; it releases the GIL, so threads use every core.
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(_save_tiles, [jobs[i::workers] for i in range(workers)]))
    _write_tilemap(out_dir, zoom, levels)
    return len(jobs)


@lru_cache(maxsize=4)
def _chunk_field(chunk: int, seed: int, key: tuple[int, ...]) -> np.ndarray:
    return render_field(chunk * TILE_SIZE, chunk * TILE_SIZE, seed=[seed, *key])


def _render_chunk(args: tuple) -> int:
    """Render and write one chunk of a chunked tree (runs in a worker process); returns its tile count."""
    out_dir, zoom, seed, levels, chunk, cx, cy, distinct = args
    if distinct:  # one of `distinct` rendered fields, in one of its 8 orientations
        pick, orient = np.random.default_rng([seed, cx, cy, 1]).integers([distinct, 8])
        rgba = np.rot90(_chunk_field(chunk, seed, (int(pick),)), k=int(orient) % 4)
        rgba = np.ascontiguousarray(rgba[:, ::-1] if orient >= 4 else rgba)
    else:
        rgba = _chunk_field(chunk, seed, (cx, cy))
    jobs = _cut_levels(rgba, Path(out_dir), zoom, ORIGIN_X + cx * chunk, ORIGIN_Y + cy * chunk, levels)
    _save_tiles(jobs)
    return len(jobs)


def write_chunked_pyramid(out_dir: str | Path, *, tiles_x: int, tiles_y: int, zoom: int, seed: int, levels: int,
                          chunk_tiles: int, workers: int = 1, distinct_chunks: int | None = None) -> int:
    """A survey-sized tree in bounded memory: the field is rendered chunk by chunk (chunk_tiles^2 zoom tiles, each
    its own seed drawn from (seed, chunk column, chunk row), so the tree is the same for any number of workers),
    each chunk cut into its zoom tiles and the levels above. Chunks do not blend into each other at their borders.
    With distinct_chunks=K only K fields are rendered and each chunk is one of them, rotated or mirrored (seeded):
    the cost of a large tree is then mostly PNG encoding."""
    out_dir = Path(out_dir)
    step = 1 << (levels - 1)
    if chunk_tiles % step:
        raise ValueError(f"demo.chunk_tiles must be a multiple of {step} for a {levels}-level pyramid")
    if tiles_x % chunk_tiles or tiles_y % chunk_tiles:
        raise ValueError(f"demo.tiles_x/tiles_y must be multiples of demo.chunk_tiles ({chunk_tiles})")
    tasks = [(str(out_dir), zoom, seed, levels, chunk_tiles, cx, cy, distinct_chunks)
             for cy in range(tiles_y // chunk_tiles) for cx in range(tiles_x // chunk_tiles)]
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            counts = list(progress(pool.map(_render_chunk, tasks), total=len(tasks), desc="demo chunks"))
    else:
        counts = [_render_chunk(t) for t in progress(tasks, desc="demo chunks")]
    _write_tilemap(out_dir, zoom, levels)
    return sum(counts)


def make_demo_pyramid(out_dir: str | Path, *, tiles_x: int = 32, tiles_y: int = 24, zoom: int = 23, seed: int = 0,
                      levels: int = 4, chunk_tiles: int | None = None, workers: int = 1,
                      distinct_chunks: int | None = None) -> int:
    """The `demo_tiles` stage: write the demo pyramid to out_dir (replacing an earlier one). With chunk_tiles the
    field is rendered in chunks (bounded memory, `workers` processes); without, as one field."""
    out_dir = Path(out_dir)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    step = 1 << (levels - 1)
    if tiles_x % step or tiles_y % step:
        raise ValueError(f"demo.tiles_x/tiles_y must be multiples of {step} for a {levels}-level pyramid")
    if chunk_tiles:
        count = write_chunked_pyramid(out_dir, tiles_x=tiles_x, tiles_y=tiles_y, zoom=zoom, seed=seed, levels=levels,
                                      chunk_tiles=chunk_tiles, workers=workers, distinct_chunks=distinct_chunks)
    else:
        rgba = render_field(tiles_x * TILE_SIZE, tiles_y * TILE_SIZE, seed=seed)
        count = write_pyramid(rgba, out_dir, zoom, ORIGIN_X, ORIGIN_Y, levels, workers=max(workers, 2))
    logger.info(f"demo pyramid: {tiles_x}x{tiles_y} zoom-{zoom} tiles ({count} tiles over {levels} zooms) in {out_dir}")
    return count
