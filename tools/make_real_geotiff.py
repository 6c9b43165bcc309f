"""Build a GeoTIFF orthomosaic from a tile pyramid, as a drone team's ODM/Pix4D export would look: the zoom-z tiles
mosaicked in EPSG:3857, then warped to a projected CRS (default: the UTM zone of its centre) as RGBA, so the rotated
footprint and the tiles' own transparent pixels make a no-data border (alpha 0).

    .venv/bin/python tools/make_real_geotiff.py ../shared/data/rock-tiles /work/scratch/ortho_utm.tif --zoom 23

Writes outside the repository; prints the raster's CRS, size, pixel size and corner coordinates.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from morecantile import tms as tms_registry
from rasterio.crs import CRS
from rasterio.enums import ColorInterp, Resampling
from rasterio.warp import calculate_default_transform, reproject, transform as transform_points

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from rockzoom.data.tiles import TILE_SIZE, decode_tile_rgba, index_tiles  # noqa: E402


def mercator_mosaic(tile_dir: str, zoom: int, scheme: str) -> tuple[np.ndarray, Affine]:
    """(RGBA (4, H, W) of every zoom tile, its EPSG:3857 geotransform); missing tiles stay transparent."""
    records, _ = index_tiles(tile_dir, zoom, scheme=scheme)
    x0, y0 = min(r.x for r in records), min(r.y for r in records)
    x1, y1 = max(r.x for r in records), max(r.y for r in records)
    out = np.zeros((4, (y1 - y0 + 1) * TILE_SIZE, (x1 - x0 + 1) * TILE_SIZE), np.uint8)
    for r in records:
        tile, _ = decode_tile_rgba(r.path)
        rows, cols = slice((r.y - y0) * TILE_SIZE, (r.y - y0 + 1) * TILE_SIZE), slice((r.x - x0) * TILE_SIZE, (r.x - x0 + 1) * TILE_SIZE)
        out[:, rows, cols] = tile.transpose(2, 0, 1)
    corner = tms_registry.get("WebMercatorQuad").xy_bounds(x0, y0, zoom)
    res = (corner.right - corner.left) / TILE_SIZE
    return out, Affine(res, 0, corner.left, 0, -res, corner.top)


def utm_of(transform: Affine, width: int, height: int) -> CRS:
    lon, lat = transform_points("EPSG:3857", "EPSG:4326", [transform.c + transform.a * width / 2],
                                [transform.f + transform.e * height / 2])
    zone = int((lon[0] + 180) // 6) + 1
    return CRS.from_epsg((32600 if lat[0] >= 0 else 32700) + zone)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("tile_dir")
    ap.add_argument("out", help="the GeoTIFF to write (outside the repository)")
    ap.add_argument("--zoom", type=int, default=23)
    ap.add_argument("--scheme", default="auto")
    ap.add_argument("--crs", default=None, help="target CRS (default: the UTM zone of the centre)")
    args = ap.parse_args(argv)

    rgba, merc_transform = mercator_mosaic(args.tile_dir, args.zoom, args.scheme)
    h, w = rgba.shape[1:]
    dst_crs = CRS.from_user_input(args.crs) if args.crs else utm_of(merc_transform, w, h)
    left, top = merc_transform.c, merc_transform.f
    right, bottom = left + merc_transform.a * w, top + merc_transform.e * h
    transform, dw, dh = calculate_default_transform("EPSG:3857", dst_crs, w, h, left, bottom, right, top)
    out = np.zeros((4, dh, dw), np.uint8)
    reproject(rgba, out, src_transform=merc_transform, src_crs="EPSG:3857", dst_transform=transform,
              dst_crs=dst_crs, resampling=Resampling.bilinear)
    out[3] = np.where(out[3] == 255, 255, 0)  # a partly transparent edge pixel is no-data
    out[:3, out[3] == 0] = 0
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(args.out, "w", driver="GTiff", width=dw, height=dh, count=4, dtype="uint8", crs=dst_crs,
                       transform=transform, tiled=True, blockxsize=256, blockysize=256, compress="deflate",
                       photometric="RGB") as dst:
        dst.colorinterp = [ColorInterp.red, ColorInterp.green, ColorInterp.blue, ColorInterp.alpha]  # before data
        dst.write(out)
    with rasterio.open(args.out) as src:
        print(json.dumps({"out": args.out, "crs": src.crs.to_string(), "size": [src.width, src.height],
                          "pixel_size": list(src.res), "bounds": list(src.bounds),
                          "valid_fraction": float((out[3] > 0).mean()),
                          "source_tiles_px": [w, h], "source_pixel_size_3857": merc_transform.a}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
