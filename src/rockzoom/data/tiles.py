"""Tile-pyramid ingestion: find every tile of one zoom, decode it once, refuse what is not a usable tile.

Tiles are keyed by XYZ (z, x, y) internally; a TMS tree (gdal2tiles without --xyz) has its rows flipped on read.
"""
from __future__ import annotations

import csv
import hashlib
import logging
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rockzoom.data import geotiff_source
from rockzoom.data.image_files import TooManyPixels, check_pixels, open_image
from rockzoom.util.luma import LUMA
from rockzoom.util.pool import ordered_map, warm_pool
from rockzoom.util.progress import progress

logger = logging.getLogger(__name__)

TILE_SIZE = 256
EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff")
SCHEMES = ("auto", "tms", "xyz")
# Modes we can turn into RGB + alpha without guessing; anything else (CMYK, 16-bit, float, 1-bit) is refused.
ACCEPTED_MODES = ("RGBA", "RGB", "LA", "L", "P", "PA", "RGBa", "La")
INDEX_COLUMNS = ["z", "x", "y", "path", "width", "height", "valid_fraction", "mean_luma", "mode", "sha1"]
REJECT_COLUMNS = ["path", "reason"]
_TILE_NUMBER = re.compile(r"[0-9]+")  # ASCII digits only (\d also takes other scripts' digits)


class TileError(ValueError):
    """A file that cannot be used as a tile; the message is the reason written to rejected.csv."""


@dataclass(frozen=True, slots=True)
class TileRecord:
    z: int
    x: int
    y: int  # XYZ row
    path: str
    width: int
    height: int
    valid_fraction: float
    mean_luma: float  # mean Rec. 601 luma (0..255) of the valid pixels; 0 when none is valid
    mode: str
    sha1: str


def resolve_scheme(tile_dir: str | Path, scheme: str) -> str:
    """`auto` means TMS when gdal2tiles' tilemapresource.xml is present, else XYZ."""
    if scheme not in SCHEMES:
        raise ValueError(f"tiles.scheme must be one of {SCHEMES}, got {scheme!r}")
    if scheme != "auto":
        return scheme
    return "tms" if (Path(tile_dir) / "tilemapresource.xml").exists() else "xyz"


def tms_to_xyz_row(z: int, y: int) -> int:
    return (1 << z) - 1 - y


def decode_tile(path: str | Path, tile_size: int = TILE_SIZE, max_pixels: int = 1 << 24) -> tuple[np.ndarray, np.ndarray, str]:
    """Decode one tile into (rgb uint8 HxWx3, valid-mask bool HxW, original mode); raise TileError with the reason."""
    rgba, mode = decode_tile_rgba(path, tile_size, max_pixels)
    return np.ascontiguousarray(rgba[..., :3]), rgba[..., 3] > 0, mode


def decode_tile_rgba(path: str | Path, tile_size: int = TILE_SIZE, max_pixels: int = 1 << 24) -> tuple[np.ndarray, str]:
    """Decode one tile into (RGBA uint8 HxWx4 with alpha 255 where the file has none, original mode)."""
    if geotiff_source.parse_tile_ref(path):  # a tile of a GeoTIFF orthomosaic: ortho.tif#z/x/y
        return geotiff_source.read_tile_rgba(str(path), tile_size)
    path = Path(path)
    if path.stat().st_size == 0:
        raise TileError("empty file")
    try:
        with open_image(path) as im:
            width, height = im.size
            check_pixels(path, width, height, max_pixels)
            if (width, height) != (tile_size, tile_size):
                raise TileError(f"wrong size {width}x{height}, expected {tile_size}x{tile_size}")
            mode = im.mode
            if mode not in ACCEPTED_MODES:
                raise TileError(f"unsupported mode {mode}")
            im.load()
            rgba = np.asarray(im if mode == "RGBA" else im.convert("RGBA"))
    except TileError:
        raise
    except TooManyPixels as exc:
        raise TileError(exc.reason) from None
    except OSError as exc:  # PIL reports truncated and undecodable data as OSError subclasses
        text = str(exc)
        reason = "truncated" if "truncated" in text else "undecodable"
        raise TileError(f"{reason}: {text}") from exc
    except (ValueError, SyntaxError) as exc:
        raise TileError(f"undecodable: {exc}") from exc
    return rgba, mode


def mean_luma(rgb: np.ndarray, mask: np.ndarray) -> float:
    """Mean Rec. 601 luma of the valid pixels (what the split stratifies on); 0 for a tile with none."""
    if not mask.any():
        return 0.0
    valid = rgb[mask].astype(np.float64)
    return float((valid @ LUMA).mean())


def parse_tile_name(zoom_dir: Path, path: Path, zoom: int) -> tuple[int, int]:
    """(x, y as named) of zoom_dir/x/y.ext; raise TileError with the reason when the path does not name a tile of
    this zoom: wrong depth or extension, a column or row that is not an integer, or one outside [0, 2^zoom)."""
    rel = path.relative_to(zoom_dir).parts
    expected = f"expected {zoom}/<x>/<y>.png|jpg|jpeg|webp|tif with integer x and y"
    if len(rel) != 2 or path.suffix.lower() not in EXTENSIONS:
        raise TileError(f"not named as a tile ({expected})")
    for what, text in (("column (x) folder", rel[0]), ("row (y) file name", path.stem)):
        if not _TILE_NUMBER.fullmatch(text):
            raise TileError(f"not named as a tile: {what} {text!r} is not a non-negative integer ({expected})")
    x, y = int(rel[0]), int(path.stem)
    limit = 1 << zoom
    for what, value in (("column x", x), ("row y", y)):
        if value >= limit:
            raise TileError(f"out of range: {what}={value} is outside [0, 2^{zoom} = {limit}) at zoom {zoom}")
    return x, y


def describe_tile(path: str | Path, zoom: int, x: int, y: int, tile_size: int = TILE_SIZE,
                  max_pixels: int = 1 << 24) -> TileRecord | str:
    """Decode one tile and measure it: its index row, or the reason it is refused (runs in a worker process)."""
    path = Path(path)
    try:
        rgb, mask, mode = decode_tile(path, tile_size=tile_size, max_pixels=max_pixels)
    except TileError as exc:
        return str(exc)
    return TileRecord(
        z=zoom, x=x, y=y, path=str(path), width=rgb.shape[1], height=rgb.shape[0],
        valid_fraction=float(mask.mean()), mean_luma=mean_luma(rgb, mask), mode=mode,
        sha1=hashlib.sha1(path.read_bytes()).hexdigest(),
    )


def _describe_task(task: tuple) -> TileRecord | str:
    return describe_tile(*task)


def _named_tiles(zoom_dir: Path, zoom: int, row_scheme: str) -> tuple[list[tuple[Path, int, int]], list[tuple[Path, str]]]:
    """Every file under zoom_dir: (path, x, XYZ y) of those named as tiles of this zoom in (x, y, path) order, and
    (path, reason) for the rest."""
    named, unnamed = [], []
    for path in sorted(p for p in zoom_dir.rglob("*") if p.is_file()):
        try:
            x, y = parse_tile_name(zoom_dir, path, zoom)
        except TileError as exc:
            unnamed.append((path, str(exc)))
            continue
        named.append((path, x, tms_to_xyz_row(zoom, y) if row_scheme == "tms" else y))
    named.sort(key=lambda t: (t[1], t[2]))  # stable: paths of one (x, y) stay in path order
    return named, unnamed


def list_tile_files(tile_dir: str | Path, zoom: int,
                    scheme: str = "auto") -> tuple[list[tuple[Path, int, int]], list[tuple[Path, str]]]:
    """The files of tile_dir/zoom from their names alone (none is opened): (path, x, XYZ y) of those named as tiles,
    in (x, y, path) order, and (path, reason) for the rest."""
    tile_dir = Path(tile_dir)
    zoom_dir = tile_dir / str(zoom)
    if not zoom_dir.is_dir():
        raise FileNotFoundError(f"tiles.dir has no zoom-{zoom} folder: {zoom_dir}")
    return _named_tiles(zoom_dir, zoom, resolve_scheme(tile_dir, scheme))


def iter_index(
    tile_dir: str | Path,
    zoom: int,
    rejected: list[tuple[str, str]],
    scheme: str = "auto",
    max_pixels: int = 1 << 24,
    tile_size: int = TILE_SIZE,
    workers: int = 1,
) -> Iterator[TileRecord]:
    """Yield the usable tiles of tile_dir/zoom/x/y.ext in (x, y) order, decoded by `workers` processes; append
    (path, reason) of each refused file to `rejected` (in path order once the iterator is exhausted). Of several
    files for one (x, y), the first in path order that decodes is kept, the later ones are refused as duplicates."""
    with warm_pool(workers) as pool:  # workers started before the file list exists (see rockzoom.util.pool)
        named, refused = list_tile_files(tile_dir, zoom, scheme)
        tasks = ((path, zoom, x, y, tile_size, max_pixels) for path, x, y in named)
        results = ordered_map(_describe_task, tasks, pool if len(named) > 1 else None, chunksize=16)
        kept: TileRecord | None = None
        for (path, x, y), result in zip(named, progress(results, total=len(named), desc=f"index z{zoom}")):
            if kept is not None and (kept.x, kept.y) == (x, y):
                refused.append((path, f"duplicate tile (x={x}, y={y}) already read from {kept.path}"))
            elif isinstance(result, str):
                refused.append((path, result))
            else:
                kept = result
                yield result
    rejected.extend((str(p), reason) for p, reason in sorted(refused, key=lambda t: t[0]))


def index_tiles(
    tile_dir: str | Path,
    zoom: int,
    scheme: str = "auto",
    max_pixels: int = 1 << 24,
    tile_size: int = TILE_SIZE,
    workers: int = 1,
    source: str = "auto",
) -> tuple[list[TileRecord], list[tuple[str, str]]]:
    """Walk tile_dir/zoom/x/y.ext; return (usable tiles sorted by x, y) and [(path, reason)] for refused files.
    A GeoTIFF (``source``: see ``geotiff_source.is_geotiff``) is cut into web-mercator tiles instead."""
    if geotiff_source.is_geotiff(tile_dir, source):
        return geotiff_source.index_geotiff(tile_dir, zoom, tile_size)
    rejected: list[tuple[str, str]] = []
    records = list(iter_index(tile_dir, zoom, rejected, scheme, max_pixels, tile_size, workers))
    return records, rejected


def _index_row(r: TileRecord) -> list:
    return [r.z, r.x, r.y, r.path, r.width, r.height, f"{r.valid_fraction:.6f}", f"{r.mean_luma:.3f}", r.mode, r.sha1]


def write_index(records: Iterable[TileRecord], rejected: list[tuple[str, str]], index_csv: str | Path,
                rejected_csv: str | Path) -> int:
    """Write index.csv row by row as `records` yields (then rejected.csv, which `records` may still be filling);
    both through temporary files renamed into place. Returns the number of index rows."""
    index_csv, rejected_csv = Path(index_csv), Path(rejected_csv)
    index_csv.parent.mkdir(parents=True, exist_ok=True)
    rejected_csv.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    tmp_index, tmp_rejected = index_csv.with_name(index_csv.name + ".tmp"), rejected_csv.with_name(rejected_csv.name + ".tmp")
    with tmp_index.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(INDEX_COLUMNS)
        for r in records:
            writer.writerow(_index_row(r))
            count += 1
    with tmp_rejected.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(REJECT_COLUMNS)
        writer.writerows(rejected)
    os.replace(tmp_index, index_csv)
    os.replace(tmp_rejected, rejected_csv)
    return count


def read_index(index_csv: str | Path) -> list[TileRecord]:
    with Path(index_csv).open(newline="") as fh:
        reader = csv.DictReader(fh)  # streamed: a list of the rows' dicts would be several times the records' size
        if reader.fieldnames and set(INDEX_COLUMNS) - set(reader.fieldnames):
            raise ValueError(f"{index_csv}: missing columns {sorted(set(INDEX_COLUMNS) - set(reader.fieldnames))}; "
                             "rebuild it (snakemake --forcerun index_tiles)")
        return [
            TileRecord(
                z=int(r["z"]), x=int(r["x"]), y=int(r["y"]), path=r["path"], width=int(r["width"]),
                height=int(r["height"]), valid_fraction=float(r["valid_fraction"]),
                mean_luma=float(r["mean_luma"]), mode=r["mode"], sha1=r["sha1"],
            )
            for r in reader
        ]


def build_index(tile_dir: str | Path, zoom: int, index_csv: str | Path, rejected_csv: str | Path,
                scheme: str = "auto", max_pixels: int = 1 << 24, workers: int = 1, source: str = "auto") -> int:
    """The `index_tiles` stage: index + rejected list on disk, streamed (the index.csv rows are not held in memory);
    the files are the same for any number of workers. A GeoTIFF orthomosaic (``source``) is cut into web-mercator
    tiles instead. Fails only when no usable tile is left. Returns the count."""
    rejected: list[tuple[str, str]] = []
    if geotiff_source.is_geotiff(tile_dir, source):
        records, rejected = geotiff_source.index_geotiff(tile_dir, zoom)
    else:
        records = iter_index(tile_dir, zoom, rejected, scheme, max_pixels, workers=workers)
    count = write_index(records, rejected, index_csv, rejected_csv)
    logger.info(f"indexed {count} zoom-{zoom} tiles from {tile_dir} with {workers} worker(s) "
                f"(scheme {resolve_scheme(tile_dir, scheme)}); rejected {len(rejected)} files")
    for path, reason in rejected:
        logger.info(f"  rejected {path}: {reason}")
    if not count:
        raise ValueError(f"no usable zoom-{zoom} tile under {tile_dir} (see {rejected_csv})")
    return count
