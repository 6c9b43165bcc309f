"""Windows of the training ground: pieces of the survey larger than one sample, cut across sample borders.

A dataset split (``data.store``) holds samples with their place in the survey (``{split}_samples.csv``: the zoom
tile x, y of the top-left and a pixel offset inside it). ``GroundIndex`` maps pixel rectangles of the survey at that
zoom to the samples covering them, so a window of any size and position is filled from the samples it overlaps
(only those are read from the memory map), with a mask: True where a valid pixel of the split lies. A window never
mixes splits: held-out ground is never part of it.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rockzoom.data.store import load_split
from rockzoom.util.memory import release_mapped_pages

TILE_PX = 256  # pixels of one zoom tile (samples' x, y are tiles)


@dataclass
class GroundIndex:
    """The samples of one split laid out in survey pixels: ``origins`` (N, 2) = (row, column) of each sample's
    top-left, relative to the split's top-left; ``size`` px square samples; ``shape`` the bounding box (rows, cols)."""
    images: np.ndarray
    masks: np.ndarray
    origins: np.ndarray
    size: int
    shape: tuple[int, int]

    @classmethod
    def from_split(cls, data_dir: str | Path, split: str = "train") -> "GroundIndex":
        arrays = load_split(data_dir, split)
        path = Path(data_dir) / f"{split}_samples.csv"
        if not path.exists():
            raise FileNotFoundError(f"{path}: missing (the sample positions; rebuild the dataset)")
        with path.open() as fh:
            rows = list(csv.DictReader(fh))
        if len(rows) != len(arrays.images):
            raise ValueError(f"{path}: {len(rows)} rows for {len(arrays.images)} samples")
        if not rows:
            raise ValueError(f"{data_dir}: the {split} split is empty")
        ys = np.array([int(r["y"]) * TILE_PX + int(r["offset_y"]) for r in rows])
        xs = np.array([int(r["x"]) * TILE_PX + int(r["offset_x"]) for r in rows])
        return cls.from_arrays(arrays.images, arrays.masks, np.column_stack([ys, xs]))

    @classmethod
    def from_arrays(cls, images: np.ndarray, masks: np.ndarray, positions: np.ndarray) -> "GroundIndex":
        """Samples (N, S, S, 3) with masks (N, S, S) at survey pixel positions (N, 2) = (row, column)."""
        positions = np.asarray(positions, np.int64)
        size = int(images.shape[1])
        origins = positions - positions.min(0)
        shape = (int(origins[:, 0].max()) + size, int(origins[:, 1].max()) + size)
        return cls(images=images, masks=masks, origins=origins, size=size, shape=shape)

    def window(self, y: int, x: int, size: int) -> tuple[np.ndarray, np.ndarray]:
        """uint8 (size, size, 3) and bool mask of the ground at (y, x) (relative pixels); no-data outside samples."""
        img = np.zeros((size, size, 3), np.uint8)
        mask = np.zeros((size, size), bool)
        s = self.size
        hit = np.nonzero((self.origins[:, 0] < y + size) & (self.origins[:, 0] + s > y)
                         & (self.origins[:, 1] < x + size) & (self.origins[:, 1] + s > x))[0]
        for i in hit:
            oy, ox = self.origins[i]
            y0, y1 = max(y, oy), min(y + size, oy + s)
            x0, x1 = max(x, ox), min(x + size, ox + s)
            m = np.asarray(self.masks[i, y0 - oy:y1 - oy, x0 - ox:x1 - ox])
            dst = img[y0 - y:y1 - y, x0 - x:x1 - x]
            dst[m] = np.asarray(self.images[i, y0 - oy:y1 - oy, x0 - ox:x1 - ox])[m]
            mask[y0 - y:y1 - y, x0 - x:x1 - x] |= m
        release_mapped_pages(self.images, self.masks)
        return img, mask

    def valid_fraction(self, y: int, x: int, size: int) -> float:
        return float(self.window(y, x, size)[1].mean())

    def mosaic(self, max_pixels: int = 64_000_000) -> tuple[np.ndarray, np.ndarray]:
        """The whole split as one image and mask (for evaluation on small trees; refused above ``max_pixels``)."""
        h, w = self.shape
        if h * w > max_pixels:
            raise ValueError(f"the ground mosaic would be {h}x{w} px, over {max_pixels} pixels")
        return self.window_rect(0, 0, h, w)

    def window_rect(self, y: int, x: int, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
        side = max(h, w)
        img, mask = self.window(y, x, side)
        return img[:h, :w], mask[:h, :w]


def pick_windows(ground: GroundIndex, size: int, count: int, *, min_valid: float = 1.0, seed: int = 0,
                 grid: int = 32, spacing: int = 0, max_tries: int | None = None) -> list[tuple[int, int]]:
    """Up to ``count`` window positions (row, column) on a ``grid`` px lattice whose valid fraction is at least
    ``min_valid``, drawn (seeded) uniformly over the positions that qualify, none within ``spacing`` px (in both
    directions) of one drawn before, so the windows spread over the ground; each try reads one window."""
    h, w = ground.shape
    if h < size or w < size:
        return []
    ys = np.arange(0, h - size + 1, grid)
    xs = np.arange(0, w - size + 1, grid)
    order = np.random.default_rng(seed).permutation(len(ys) * len(xs))
    tries = len(order) if max_tries is None else min(len(order), max_tries)
    out: list[tuple[int, int]] = []
    for k in order[:tries]:
        y, x = int(ys[k // len(xs)]), int(xs[k % len(xs)])
        if any(abs(y - py) < spacing and abs(x - px) < spacing for py, px in out):
            continue
        if ground.valid_fraction(y, x, size) >= min_valid:
            out.append((y, x))
            if len(out) == count:
                break
    return out
