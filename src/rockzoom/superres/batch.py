"""Many inputs, one loaded model: expand files, folders and globs to (input, output) pairs and upscale each.

A TIFF written to a TIFF goes through the windowed GeoTIFF path (georeferencing and mask kept); everything else
through ``upscale_file`` (PIL, alpha kept).
"""
from __future__ import annotations

import glob
import logging
from pathlib import Path

from rockzoom.data.image_files import FORMATS
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


def upscale_many(pairs: list[tuple[Path, Path]], upscaler: Upscaler, tile: int = 256, overlap: int = 16,
                 cog: bool = False, progress: bool = True) -> list[dict]:
    """Upscale every pair with the one ``upscaler``; ``cog`` writes TIFF outputs as Cloud-Optimized GeoTIFFs."""
    from rockzoom.superres.geotiff import is_tiff, upscale_geotiff

    results = []
    for i, (src, dst) in enumerate(pairs, 1):
        if is_tiff(src) and is_tiff(dst):
            info = upscale_geotiff(src, dst, upscaler, tile=tile, overlap=overlap, cog=cog, progress_bar=progress)
        else:
            if cog:
                logger.warning(f"{dst}: --cog applies to TIFF to TIFF only; written as a plain image")
            info = upscale_file(src, dst, upscaler, tile=tile, overlap=overlap, progress=progress)
        results.append({"file": str(src), "out": str(dst), **info})
        logger.info(f"[{i}/{len(pairs)}] {src} -> {dst}")
    return results
