"""Many inputs, one loaded model: expand files, folders and globs to (input, output) pairs and upscale each.

``upscale_one`` picks the path for a pair. A TIFF written to a TIFF goes through the windowed GeoTIFF path
(georeferencing and mask kept), and so does a PNG/JPEG over the pixel limit written to a TIFF (read in row strips:
memory bounded by a strip, not by the image); any other image over the limit is refused from its header, since its
output would be held whole in memory. Everything else goes through ``upscale_file`` (PIL, alpha kept).
"""
from __future__ import annotations

import glob
import logging
from pathlib import Path

from rockzoom.data.image_files import FORMATS, TooManyPixels, check_pixels, default_max_pixels, image_size
from rockzoom.superres.upscale import Upscaler, upscale_file

logger = logging.getLogger(__name__)


def _is_image(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in FORMATS


def expand_inputs(inputs: list[str]) -> list[Path]:
    """Files as given, a folder's image files (not recursive, sorted), a glob's matching image files (sorted)."""
    found: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if _is_image(p))
            if not files:
                raise FileNotFoundError(f"{item}: the folder holds no image file ({', '.join(sorted(FORMATS))})")
        elif path.is_file():
            files = [path]
        elif glob.has_magic(item):
            files = sorted(p for p in map(Path, glob.glob(item)) if _is_image(p))
            if not files:
                raise FileNotFoundError(f"{item}: the pattern matches no image file")
        else:
            raise FileNotFoundError(f"no such input: {item}")
        found.extend(files)
    return list(dict.fromkeys(found))


def plan_outputs(inputs: list[str], output: str) -> list[tuple[Path, Path]]:
    """-> [(input, output)]. One input file and an output with an image suffix: that file; otherwise ``output`` is
    a folder and each result keeps its input's file name."""
    files = expand_inputs(inputs)
    out = Path(output)
    single_file = len(inputs) == 1 and Path(inputs[0]).is_file()
    if single_file and out.suffix.lower() in FORMATS and not out.is_dir():
        pairs = [(files[0], out)]
    else:
        if out.suffix.lower() in FORMATS and not out.is_dir():
            raise ValueError(f"{output}: several inputs need an output folder, not an image file name")
        pairs = [(f, out / f.name) for f in files]
        names = [p.name for _, p in pairs]
        if dupes := sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"inputs from different folders share the file name(s) {dupes}; "
                             "upscale them into different output folders")
    for src, dst in pairs:
        if src.resolve() == dst.resolve():
            raise ValueError(f"{dst}: the output would overwrite its input")
    return pairs


def upscale_one(src: Path, dst: Path, upscaler: Upscaler, tile: int = 256, overlap: int = 16, cog: bool = False,
                max_pixels: int | None = None, progress: bool = True) -> dict:
    """Upscale one pair with ``upscaler``; ``cog`` writes a TIFF output as a Cloud-Optimized GeoTIFF. An image over
    ``max_pixels`` (None: ``default_max_pixels()``) is streamed into a TIFF output, and refused for any other
    output before a pixel is read, with one line naming its size, the limit and the two ways out."""
    from rockzoom.superres.geotiff import is_tiff, upscale_geotiff

    src, dst = Path(src), Path(dst)
    max_pixels = default_max_pixels() if max_pixels is None else max_pixels
    stream = is_tiff(src) and is_tiff(dst)
    if not stream:
        try:
            check_pixels(src, *image_size(src), max_pixels)
        except TooManyPixels as exc:
            if not is_tiff(dst):
                raise ValueError(
                    f"{src}: {exc.width}x{exc.height} = {exc.width * exc.height:,} pixels is over the pixel limit "
                    f"{max_pixels:,} (tiles.max_pixels; a {dst.suffix} output is held whole in memory): write a "
                    f"GeoTIFF output ({dst.with_suffix('.tif').name}, streamed in bounded memory) or raise the limit "
                    "with --max-pixels") from None
            logger.info(f"{src}: {exc.width}x{exc.height} is over the pixel limit {max_pixels}; streamed in row "
                        "strips into the TIFF output")
            stream = True
    if stream:
        info = upscale_geotiff(src, dst, upscaler, tile=tile, overlap=overlap, cog=cog, progress_bar=progress)
    else:
        if cog:
            logger.warning(f"{dst}: --cog applies to TIFF to TIFF (or over the pixel limit) only; written as a plain "
                           "image")
        info = upscale_file(src, dst, upscaler, tile=tile, overlap=overlap, progress=progress, max_pixels=max_pixels)
    return {"file": str(src), "out": str(dst), **info}
