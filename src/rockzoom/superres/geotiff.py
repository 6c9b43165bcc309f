"""Upscale a GeoTIFF (an orthomosaic) window by window: CRS kept, geotransform scaled by the factor, no-data kept.

Memory is bounded by one tile and GDAL's block cache (``CACHE_MB``): every core + context window is read from the
file, upscaled and written at once
(the tiles of ``tile_boxes``, so the result equals ``upscale_tiled`` on the whole image). The mask is the input's
own kind: an alpha band stays an alpha band, a nodata value stays that nodata value, an internal mask stays a mask.
A Cloud-Optimized GeoTIFF is written by copying the finished tiled GeoTIFF through GDAL's COG driver.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import rasterio
import rasterio.shutil
from affine import Affine
from rasterio.enums import ColorInterp
from rasterio.windows import Window

from rockzoom.data.geotiff_source import rgb_layout
from rockzoom.superres.upscale import Upscaler, tile_boxes, upscale_core
from rockzoom.util.progress import progress

logger = logging.getLogger(__name__)
TIFF_SUFFIXES = (".tif", ".tiff")
BLOCK = 256
CACHE_MB = 256  # GDAL's block cache (default: 5% of RAM) is what would otherwise grow with the raster


def is_tiff(path: str | Path) -> bool:
    return Path(path).suffix.lower() in TIFF_SUFFIXES


def upscale_geotiff(in_path: str | Path, out_path: str | Path, upscaler: Upscaler, tile: int = 256,
                    overlap: int = 16, cog: bool = False, progress_bar: bool = False) -> dict:
    """Upscale one RGB(A) GeoTIFF ×``upscaler.scale`` into ``out_path``; returns sizes, CRS and transforms."""
    in_path, out_path = Path(in_path), Path(out_path)
    if not in_path.is_file():
        raise FileNotFoundError(f"no such GeoTIFF: {in_path}")
    s = upscaler.scale
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f".{out_path.name}.tmp.tif")
    with rasterio.Env(GDAL_CACHEMAX=CACHE_MB), rasterio.open(in_path) as src:
        colour, mask_kind = rgb_layout(src, in_path)
        h, w = src.height, src.width
        transform = src.transform @ Affine.scale(1 / s)
        profile = {
            "driver": "GTiff", "width": w * s, "height": h * s, "count": 4 if mask_kind == "alpha" else 3,
            "dtype": "uint8", "crs": src.crs, "transform": transform, "tiled": True, "blockxsize": BLOCK,
            "blockysize": BLOCK, "compress": "deflate", "predictor": 2, "photometric": "RGB", "BIGTIFF": "IF_SAFER",
        }
        if mask_kind == "nodata":
            profile["nodata"] = src.nodata
        boxes = tile_boxes(h, w, tile, overlap)
        if progress_bar:
            boxes = progress(boxes, desc=in_path.name, unit="tile")
        with rasterio.open(tmp, "w", **profile) as dst:
            if mask_kind == "alpha":
                dst.colorinterp = [ColorInterp.red, ColorInterp.green, ColorInterp.blue, ColorInterp.alpha]
            for core, padded in boxes:
                (y0, y1, x0, x1), (py0, py1, px0, px1) = core, padded
                patch = src.read(colour, window=Window(px0, py0, px1 - px0, py1 - py0)).transpose(1, 2, 0)
                rgb = upscale_core(upscaler, patch, core, padded, uint8=True)
                out_window = Window(x0 * s, y0 * s, (x1 - x0) * s, (y1 - y0) * s)
                if mask_kind == "none":
                    dst.write(rgb.transpose(2, 0, 1), [1, 2, 3], window=out_window)
                    continue
                valid = src.dataset_mask(window=Window(x0, y0, x1 - x0, y1 - y0)) > 0
                valid = valid.repeat(s, 0).repeat(s, 1)
                if mask_kind == "nodata":
                    rgb = _keep_nodata(rgb, valid, src.nodata)
                dst.write(rgb.transpose(2, 0, 1), [1, 2, 3], window=out_window)
                if mask_kind == "alpha":
                    dst.write(valid.astype(np.uint8) * 255, 4, window=out_window)
                elif mask_kind == "mask":
                    dst.write_mask(valid.astype(np.uint8) * 255, window=out_window)
        crs, in_transform = src.crs, src.transform
    if cog:
        with rasterio.Env(GDAL_CACHEMAX=CACHE_MB):
            rasterio.shutil.copy(tmp, out_path, driver="COG", compress="deflate", predictor="YES", blocksize=512,
                                 BIGTIFF="IF_SAFER", NUM_THREADS="ALL_CPUS")
        tmp.unlink()
    else:
        os.replace(tmp, out_path)
    logger.info(f"{in_path} -> {out_path}: {w}x{h} -> {w * s}x{h * s} px, mask {mask_kind}, "
                f"{'COG' if cog else 'GeoTIFF'}")
    return {"input": [h, w], "output": [h * s, w * s], "scale": s, "method": upscaler.name,
            "crs": crs.to_string() if crs else None, "mask": mask_kind, "cog": cog,
            "transform_in": list(in_transform)[:6], "transform_out": list(transform)[:6]}


def _keep_nodata(rgb: np.ndarray, valid: np.ndarray, nodata: float) -> np.ndarray:
    """No-data pixels get the nodata value; a valid pixel that happens to equal it in every band is moved by one
    level in its first band, so it stays valid."""
    value = int(nodata)
    rgb = rgb.copy()
    rgb[~valid] = value
    clash = valid & (rgb == value).all(axis=-1)
    rgb[clash, 0] = value + 1 if value < 255 else value - 1
    return rgb
