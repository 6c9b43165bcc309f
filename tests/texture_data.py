"""Small dataset folders (arrays contract) of smooth random textures, for SR and refiner tests; the seam measure of
the seamless texture tests."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from rockzoom.data.store import save_split


def textures(n: int, size: int, seed: int) -> np.ndarray:
    """Smooth random textures (noise upsampled by PIL), so there is structure to learn."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, size=(n, size // 4, size // 4, 3), dtype=np.uint8)
    return np.stack([np.asarray(Image.fromarray(s).resize((size, size), Image.Resampling.BICUBIC)) for s in small])


def write_texture_dataset(d: Path, counts: dict[str, int], size: int, nodata_rows: int) -> Path:
    """train/val/test splits of `size` px textures, each with a no-data strip of `nodata_rows` top rows."""
    for i, (split, n) in enumerate(counts.items()):
        images = textures(n, size, seed=i)
        masks = np.ones(images.shape[:3], bool)
        masks[:, :nodata_rows, :] = False
        save_split(d, split, images, masks)
    (d / "summary.json").write_text(json.dumps({"manifest_hash": "fixture"}))
    return d


def wrap_edge_ratio(img: np.ndarray) -> float:
    """Mean difference across the wrap-around edges over the mean interior neighbour difference (~1: no seam)."""
    a = img.astype(np.float64)
    interior = np.concatenate([np.abs(np.diff(a, axis=1)).ravel(), np.abs(np.diff(a, axis=0)).ravel()]).mean()
    wrap = np.concatenate([np.abs(a[:, -1] - a[:, 0]).ravel(), np.abs(a[-1] - a[0]).ravel()]).mean()
    return wrap / interior
