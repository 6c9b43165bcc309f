"""Reading and writing RGB(A) images (PNG, JPEG, TIFF) as uint8 arrays, alpha kept apart from RGB.

Every image is opened header first and its size checked against one pixel limit before a pixel is decoded: the
packaged ``tiles.max_pixels`` (the tile index's decompression-bomb guard). Pillow's own check (a warning, then an
error at twice its limit) is off while rockzoom opens an image, so that limit is the only one.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF"}
log = logging.getLogger(__name__)


class TooManyPixels(ValueError):
    """An image over the pixel limit, refused from its header; ``reason`` omits the file name."""

    def __init__(self, path: str | Path, width: int, height: int, limit: int):
        self.path, self.width, self.height, self.limit = Path(path), width, height, limit
        self.reason = f"{width}x{height} exceeds the pixel limit {limit} (decompression bomb)"
        super().__init__(f"{path}: {self.reason}")


@lru_cache(maxsize=1)
def default_max_pixels() -> int:
    """The packaged ``tiles.max_pixels``: the one default pixel limit of the tile index and of every CLI read."""
    from rockzoom.config.loading import DEFAULTS_PATH, read_yaml

    return int(read_yaml(DEFAULTS_PATH)["tiles"]["max_pixels"])


@contextmanager
def open_image(path: str | Path) -> Iterator[Image.Image]:
    """``Image.open`` (reads the header; pixels decode on ``load``) with Pillow's bomb check off until the block
    ends: the caller checks ``im.size`` with ``check_pixels`` before it loads."""
    saved, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
    try:
        with Image.open(path) as im:
            yield im
    finally:
        Image.MAX_IMAGE_PIXELS = saved


def check_pixels(path: str | Path, width: int, height: int, max_pixels: int) -> None:
    """Raise ``TooManyPixels`` when ``width * height`` exceeds ``max_pixels``."""
    if width * height > max_pixels:
        raise TooManyPixels(path, width, height, max_pixels)


def image_size(path: str | Path) -> tuple[int, int]:
    """(width, height) from the file's header, no pixel decoded; ValueError naming the file if it is no image."""
    try:
        with open_image(path) as im:
            return im.size
    except (OSError, SyntaxError) as exc:  # PIL: UnidentifiedImageError (an OSError), or a malformed header
        if isinstance(exc, FileNotFoundError):
            raise FileNotFoundError(f"no such image: {path}") from None
        raise ValueError(f"{path}: cannot read image ({exc})") from exc


def image_format(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"{path}: unsupported image type {suffix!r}; expected one of {sorted(FORMATS)}")
    return FORMATS[suffix]


def read_image(path: str | Path, max_pixels: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """-> (rgb uint8 (H, W, 3), alpha uint8 (H, W) or None when the file has no transparency). An image over
    ``max_pixels`` (None: ``default_max_pixels()``) is refused from its header, before a pixel is decoded."""
    image_format(path)
    max_pixels = default_max_pixels() if max_pixels is None else max_pixels
    try:
        with open_image(path) as im:
            check_pixels(path, *im.size, max_pixels)
            im.load()
            if im.mode in ("I;16", "I;16B", "I", "F"):
                raise ValueError(f"{path}: {im.mode} images (16-bit/float) are not supported; convert to 8-bit RGB")
            has_alpha = im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info)
            array = np.asarray(im.convert("RGBA" if has_alpha else "RGB"))
    except FileNotFoundError:
        raise FileNotFoundError(f"no such image: {path}") from None
    except (OSError, SyntaxError) as exc:  # PIL reports truncated and undecodable data as OSError subclasses
        raise ValueError(f"{path}: cannot read image ({exc})") from exc
    if has_alpha:
        return np.ascontiguousarray(array[..., :3]), np.ascontiguousarray(array[..., 3])
    return array, None


def write_image(path: str | Path, rgb: np.ndarray, alpha: np.ndarray | None = None) -> None:
    """Write uint8 RGB (+ alpha). JPEG cannot store alpha: no-data pixels are written black and a warning is logged."""
    fmt = image_format(path)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    if alpha is not None and fmt == "JPEG":
        log.warning("%s: JPEG has no alpha channel; no-data pixels are written black", path)
        rgb = np.where(alpha[..., None] > 0, rgb, 0).astype(np.uint8)
        alpha = None
    if alpha is not None:
        image = Image.fromarray(np.dstack([rgb, alpha]).astype(np.uint8))
    else:
        image = Image.fromarray(np.asarray(rgb, dtype=np.uint8))
    image.save(path, format=fmt, **({"quality": 95} if fmt == "JPEG" else {}))
