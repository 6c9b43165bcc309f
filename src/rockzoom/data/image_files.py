"""Reading and writing RGB(A) images (PNG, JPEG, TIFF) as uint8 arrays, alpha kept apart from RGB."""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PIL import Image

FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF"}
log = logging.getLogger(__name__)


def image_format(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"{path}: unsupported image type {suffix!r}; expected one of {sorted(FORMATS)}")
    return FORMATS[suffix]


def read_image(path: str | Path, max_pixels: int | None = 1 << 28) -> tuple[np.ndarray, np.ndarray | None]:
    """-> (rgb uint8 (H, W, 3), alpha uint8 (H, W) or None when the file has no transparency)."""
    image_format(path)
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with Image.open(path) as im:
            im.load()
            if im.mode in ("I;16", "I;16B", "I", "F"):
                raise ValueError(f"{path}: {im.mode} images (16-bit/float) are not supported; convert to 8-bit RGB")
            has_alpha = im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info)
            array = np.asarray(im.convert("RGBA" if has_alpha else "RGB"))
    except (OSError, Image.DecompressionBombError) as exc:
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
