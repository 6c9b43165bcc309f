"""Web-mercator tiles read straight from a GeoTIFF orthomosaic (rio-tiler / morecantile), no gdal2tiles step.

The index and the datasets read a GeoTIFF through two small seams in ``data.tiles``: ``index_tiles`` lists the
zoom-z tiles that hold any valid pixel (``index_geotiff``), and each record's ``path`` is a tile reference
``ortho.tif#z/x/y`` that ``decode_tile_rgba`` hands to ``read_tile_rgba``. Tiles are XYZ (row 0 at the top), 256 px,
reprojected with bilinear resampling; the raster's mask (alpha band, nodata value or internal mask) becomes alpha.
"""
from __future__ import annotations

import functools
import hashlib
import logging
import re
import warnings
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

SOURCES = ("auto", "tree", "geotiff")
RESAMPLING = "bilinear"
_TILE_REF = re.compile(r"^(?P<file>.+)#(?P<z>\d+)/(?P<x>\d+)/(?P<y>\d+)$")


def is_geotiff(tile_dir: str | Path, source: str = "auto") -> bool:
    """``tiles.source``: ``geotiff``, or ``auto`` with ``tiles.dir`` naming a file (a folder is a tile tree)."""
    if source not in SOURCES:
        raise ValueError(f"tiles.source must be one of {SOURCES}, got {source!r}")
    return source == "geotiff" or (source == "auto" and Path(tile_dir).is_file())


def tile_ref(path: str | Path, z: int, x: int, y: int) -> str:
    return f"{path}#{z}/{x}/{y}"


def parse_tile_ref(path: str | Path) -> tuple[str, int, int, int] | None:
    """``ortho.tif#23/x/y`` -> (file, z, x, y); None for an ordinary file path."""
    m = _TILE_REF.match(str(path))
    return (m["file"], int(m["z"]), int(m["x"]), int(m["y"])) if m else None


def rgb_layout(src, path: str | Path) -> tuple[list[int], str]:
    """An open rasterio dataset -> (its three colour band indexes, mask kind: alpha | nodata | mask | none);
    refuses anything but 8-bit RGB(A), naming the file."""
    from rasterio.enums import ColorInterp, MaskFlags

    if any(dt != "uint8" for dt in src.dtypes):
        raise ValueError(f"{path}: bands of type {sorted(set(src.dtypes))}; only 8-bit (uint8) RGB(A) GeoTIFFs are "
                         "supported (e.g. gdal_translate -ot Byte -scale)")
    alpha = [i + 1 for i, ci in enumerate(src.colorinterp) if ci == ColorInterp.alpha]
    colour = [i for i in range(1, src.count + 1) if i not in alpha]
    if len(colour) != 3:
        raise ValueError(f"{path}: {len(colour)} colour band(s); expected 3 (RGB, optionally with an alpha band)")
    if alpha:
        return colour, "alpha"
    if src.nodata is not None:
        return colour, "nodata"
    if MaskFlags.per_dataset in src.mask_flag_enums[0]:
        return colour, "mask"
    return colour, "none"


@functools.lru_cache(maxsize=4)
def _reader(path: str):
    """One open rio-tiler Reader per file and process (the datasets read many tiles of one orthomosaic)."""
    import rasterio
    from rio_tiler.errors import NoOverviewWarning
    from rio_tiler.io import Reader

    try:
        with warnings.catch_warnings():  # rio-tiler's NoOverviewWarning: full-resolution tiles need none
            warnings.simplefilter("ignore", NoOverviewWarning)
            reader = Reader(path)
    except rasterio.errors.RasterioIOError as exc:
        raise ValueError(f"{path}: cannot read as a GeoTIFF ({exc})") from exc
    if reader.dataset.crs is None:
        raise ValueError(f"{path}: the GeoTIFF has no CRS; tiles cannot be placed on the web-mercator grid")
    colour, _ = rgb_layout(reader.dataset, path)
    return reader, colour


def read_tile_rgba(ref: str, tile_size: int = 256) -> tuple[np.ndarray, str]:
    """A tile reference -> (RGBA uint8 (tile, tile, 4), 'RGBA'); alpha 0 where the raster has no data."""
    path, z, x, y = parse_tile_ref(ref)
    reader, colour = _reader(path)
    image = reader.tile(x, y, z, tilesize=tile_size, indexes=colour, resampling_method=RESAMPLING,
                        reproject_method=RESAMPLING)
    rgba = np.dstack([image.data.transpose(1, 2, 0).astype(np.uint8), image.mask.astype(np.uint8)])
    return rgba, "RGBA"


def index_geotiff(path: str | Path, zoom: int, tile_size: int = 256) -> tuple[list, list[tuple[str, str]]]:
    """Every zoom-``zoom`` tile over the raster that holds a valid pixel, as TileRecords sorted by x, y (tiles with
    no valid pixel are left out, as gdal2tiles leaves them out)."""
    from rio_tiler.errors import TileOutsideBounds

    from rockzoom.data.tiles import TileRecord, mean_luma
    from rockzoom.util.progress import progress

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"tiles.dir: no such GeoTIFF: {path}")
    reader, _ = _reader(str(path))
    west, south, east, north = reader.get_geographic_bounds(reader.tms.rasterio_geographic_crs)
    tiles = list(reader.tms.tiles(west, south, east, north, zooms=[zoom]))
    logger.info(f"{path}: {reader.dataset.width}x{reader.dataset.height} px in {reader.dataset.crs}; "
                f"{len(tiles)} zoom-{zoom} tiles over its extent")
    records = []
    for t in progress(tiles, desc="index geotiff", unit="tile"):
        ref = tile_ref(path, zoom, t.x, t.y)
        try:
            rgba, mode = read_tile_rgba(ref, tile_size)
        except TileOutsideBounds:
            continue
        mask = rgba[..., 3] > 0
        if not mask.any():
            continue
        rgb = rgba[..., :3]
        records.append(TileRecord(z=zoom, x=t.x, y=t.y, path=ref, width=tile_size, height=tile_size,
                                  valid_fraction=float(mask.mean()), mean_luma=mean_luma(rgb, mask), mode=mode,
                                  sha1=hashlib.sha1(rgba.tobytes()).hexdigest()))
    return sorted(records, key=lambda r: (r.x, r.y)), []
