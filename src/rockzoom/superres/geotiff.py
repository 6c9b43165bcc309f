"""Upscale a raster GDAL reads (a GeoTIFF orthomosaic; a PNG/JPEG too large to decode whole) window by window:
CRS kept, geotransform scaled by the factor, no-data kept.

Memory is bounded by one tile and GDAL's block cache (``CACHE_MB``): every core + context window is read from the
file, upscaled and written at once (the tiles of ``tile_boxes``, so the result equals ``upscale_tiled`` on the whole
image). A PNG or JPEG decodes top to bottom only (GDAL starts again from the first row to go back), so it is read in
full-width row strips, each row once, and memory is bounded by one strip. The mask is the input's own kind: an alpha
band stays an alpha band (its values replicated, as ``upscale_file`` does), a nodata value stays that nodata value,
an internal mask stays a mask. A Cloud-Optimized GeoTIFF is written by copying the finished tiled GeoTIFF through
GDAL's COG driver. An input without georeferencing (a plain PNG) gives an output without it.
"""
from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import rasterio
import rasterio.shutil
from affine import Affine
from rasterio.enums import ColorInterp
from rasterio.errors import NotGeoreferencedWarning, RasterioIOError
from rasterio.windows import Window

from rockzoom.data.geotiff_source import rgb_layout
from rockzoom.superres.upscale import Upscaler, tile_boxes, upscale_core
from rockzoom.util.progress import progress

logger = logging.getLogger(__name__)
TIFF_SUFFIXES = (".tif", ".tiff")
SEQUENTIAL_DRIVERS = ("PNG", "JPEG")  # decoded top to bottom: read in row strips
BLOCK = 256
CACHE_MB = 256  # GDAL's block cache (default: 5% of RAM) is what would otherwise grow with the raster


def is_tiff(path: str | Path) -> bool:
    return Path(path).suffix.lower() in TIFF_SUFFIXES


class _Windows:
    """Core + context windows read straight from a random-access raster (a tiled or striped GeoTIFF)."""

    def __init__(self, src, path: Path, colour: list[int], alpha: int | None, mask_kind: str):
        self.src, self.path, self.colour, self.alpha, self.mask_kind = src, path, colour, alpha, mask_kind

    def read(self, core, padded) -> tuple[np.ndarray, np.ndarray | None]:
        """-> (the padded window's RGB (h, w, 3), the core's alpha (alpha values) or validity (bool), or None)."""
        (y0, y1, x0, x1), (py0, py1, px0, px1) = core, padded
        core_window = Window(x0, y0, x1 - x0, y1 - y0)
        with _reading(self.path):
            patch = self.src.read(self.colour, window=Window(px0, py0, px1 - px0, py1 - py0)).transpose(1, 2, 0)
            if self.mask_kind == "alpha":
                return patch, self.src.read(self.alpha, window=core_window)
            if self.mask_kind in ("nodata", "mask"):
                return patch, self.src.dataset_mask(window=core_window) > 0
        return patch, None


class _RowStrips:
    """Core + context windows cut from full-width row strips of a sequential raster (PNG, JPEG): each row is read
    once, in order; the rows above the current tile row's context are dropped."""

    def __init__(self, src, path: Path, colour: list[int], alpha: int | None):
        self.src, self.path = src, path
        self.bands = colour + ([alpha] if alpha is not None else [])
        self.has_alpha = alpha is not None
        self.top = 0  # the file row of self.rows[0]
        self.rows = np.empty((0, src.width, len(self.bands)), np.uint8)

    def _rows(self, py0: int, py1: int) -> np.ndarray:
        if py0 > self.top:  # tile rows come top to bottom: nothing above py0 is needed again
            self.rows, self.top = self.rows[py0 - self.top:], py0
        end = self.top + len(self.rows)
        if py1 > end:
            with _reading(self.path):
                new = self.src.read(self.bands, window=Window(0, end, self.src.width, py1 - end))
            self.rows = np.concatenate([self.rows, new.transpose(1, 2, 0)])
        return self.rows

    def read(self, core, padded) -> tuple[np.ndarray, np.ndarray | None]:
        (y0, y1, x0, x1), (py0, py1, px0, px1) = core, padded
        rows = self._rows(py0, py1)
        patch = rows[py0 - self.top:py1 - self.top, px0:px1, :3]
        alpha = rows[y0 - self.top:y1 - self.top, x0:x1, 3] if self.has_alpha else None
        return patch, alpha


@contextmanager
def _reading(path: Path) -> Iterator[None]:
    """GDAL's read errors (a truncated PNG, a corrupt block) as a ValueError naming the input."""
    try:
        yield
    except RasterioIOError as exc:  # GDAL's own words are in the cause ("Read failed. See previous exception")
        raise ValueError(f"{path}: cannot read ({exc.__cause__ or exc})") from exc


def _open(path: Path):
    with _reading(path), warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)  # a plain PNG/JPEG: written without georeferencing
        return rasterio.open(path)


def upscale_geotiff(in_path: str | Path, out_path: str | Path, upscaler: Upscaler, tile: int = 256,
                    overlap: int = 16, cog: bool = False, progress_bar: bool = False) -> dict:
    """Upscale one RGB(A) raster ×``upscaler.scale`` into the (Geo)TIFF ``out_path``; returns sizes, CRS and
    transforms."""
    in_path, out_path = Path(in_path), Path(out_path)
    if not in_path.is_file():
        raise FileNotFoundError(f"no such input: {in_path}")
    s = upscaler.scale
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f".{out_path.name}.tmp.tif")
    try:
        with rasterio.Env(GDAL_CACHEMAX=CACHE_MB), _open(in_path) as src:
            info = _write_upscaled(src, in_path, tmp, upscaler, tile, overlap, progress_bar)
        if cog:
            with rasterio.Env(GDAL_CACHEMAX=CACHE_MB):
                rasterio.shutil.copy(tmp, out_path, driver="COG", compress="deflate", predictor="YES", blocksize=512,
                                     BIGTIFF="IF_SAFER", NUM_THREADS="ALL_CPUS")
        else:
            os.replace(tmp, out_path)
    finally:
        tmp.unlink(missing_ok=True)
    h, w = info["input"]
    logger.info(f"{in_path} -> {out_path}: {w}x{h} -> {w * s}x{h * s} px, mask {info['mask']}, "
                f"{'COG' if cog else 'GeoTIFF'}")
    return {**info, "cog": cog}


def _write_upscaled(src, in_path: Path, out_path: Path, upscaler: Upscaler, tile: int, overlap: int,
                    progress_bar: bool) -> dict:
    """Upscale the open ``src`` tile by tile into a new tiled GeoTIFF at ``out_path``; -> sizes, CRS, transforms."""
    colour, mask_kind = rgb_layout(src, in_path)
    sequential = src.driver in SEQUENTIAL_DRIVERS
    if sequential and mask_kind != "alpha":
        mask_kind = "none"  # as read_image: only an alpha channel is transparency in a PNG/JPEG
    alpha = next((b for b in range(1, src.count + 1) if b not in colour), None) if mask_kind == "alpha" else None
    s, h, w = upscaler.scale, src.height, src.width
    georeferenced = src.crs is not None or src.transform != Affine.identity()
    transform = src.transform @ Affine.scale(1 / s)
    profile = {
        "driver": "GTiff", "width": w * s, "height": h * s, "count": 4 if mask_kind == "alpha" else 3,
        "dtype": "uint8", "tiled": True, "blockxsize": BLOCK, "blockysize": BLOCK, "compress": "deflate",
        "predictor": 2, "photometric": "RGB", "BIGTIFF": "IF_SAFER",
    }
    if georeferenced:
        profile.update(crs=src.crs, transform=transform)
    if mask_kind == "nodata":
        profile["nodata"] = src.nodata
    reader = _RowStrips(src, in_path, colour, alpha) if sequential else _Windows(src, in_path, colour, alpha, mask_kind)
    boxes = tile_boxes(h, w, tile, overlap)
    if progress_bar:
        boxes = progress(boxes, desc=in_path.name, unit="tile")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        dst = rasterio.open(out_path, "w", **profile)
    with dst:
        if mask_kind == "alpha":
            dst.colorinterp = [ColorInterp.red, ColorInterp.green, ColorInterp.blue, ColorInterp.alpha]
        for core, padded in boxes:
            (y0, y1, x0, x1) = core
            patch, mask = reader.read(core, padded)
            rgb = upscale_core(upscaler, patch, core, padded, uint8=True)
            out_window = Window(x0 * s, y0 * s, (x1 - x0) * s, (y1 - y0) * s)
            if mask is not None:
                mask = mask.repeat(s, 0).repeat(s, 1)
            if mask_kind == "nodata":
                rgb = _keep_nodata(rgb, mask, src.nodata)
            dst.write(rgb.transpose(2, 0, 1), [1, 2, 3], window=out_window)
            if mask_kind == "alpha":
                dst.write(mask, 4, window=out_window)
            elif mask_kind == "mask":
                dst.write_mask(mask.astype(np.uint8) * 255, window=out_window)
    return {"input": [h, w], "output": [h * s, w * s], "scale": s, "method": upscaler.name,
            "crs": src.crs.to_string() if src.crs else None, "mask": mask_kind,
            "transform_in": list(src.transform)[:6] if georeferenced else None,
            "transform_out": list(transform)[:6] if georeferenced else None}


def _keep_nodata(rgb: np.ndarray, valid: np.ndarray, nodata: float) -> np.ndarray:
    """No-data pixels get the nodata value; a valid pixel that happens to equal it in every band is moved by one
    level in its first band, so it stays valid."""
    value = int(nodata)
    rgb = rgb.copy()
    rgb[~valid] = value
    clash = valid & (rgb == value).all(axis=-1)
    rgb[clash, 0] = value + 1 if value < 255 else value - 1
    return rgb
