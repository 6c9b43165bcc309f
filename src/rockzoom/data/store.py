"""The on-disk dataset contract: one folder per sample size, decoded once, memory-mappable.

``results/data/s{S}/`` holds, for each split in ``SPLITS``:
  ``{split}_images.npy``  uint8 (N, S, S, 3)  RGB pixels
  ``{split}_masks.npy``   bool  (N, S, S)     True where the pixel is valid (alpha > 0)
  ``{split}_samples.csv`` one row per sample: z, x, y of its top-left zoom tile (XYZ), size, block, valid_fraction
and ``summary.json`` (counts per split, valid fractions, block ids, manifest hash).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class SplitArrays:
    images: np.ndarray  # uint8 (N, S, S, 3), usually a read-only memmap
    masks: np.ndarray  # bool (N, S, S)

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def size(self) -> int:
        return int(self.images.shape[1])


def images_path(data_dir: str | Path, split: str) -> Path:
    return Path(data_dir) / f"{split}_images.npy"


def masks_path(data_dir: str | Path, split: str) -> Path:
    return Path(data_dir) / f"{split}_masks.npy"


def load_split(data_dir: str | Path, split: str, mmap: bool = True) -> SplitArrays:
    """Open one split of a dataset folder without decoding anything."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
    mode = "r" if mmap else None
    ipath, mpath = images_path(data_dir, split), masks_path(data_dir, split)
    for p in (ipath, mpath):
        if not p.exists():
            raise FileNotFoundError(f"dataset file missing: {p} (run the build_dataset rule first)")
    images = np.load(ipath, mmap_mode=mode)
    masks = np.load(mpath, mmap_mode=mode)
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
        raise ValueError(f"{ipath}: expected uint8 (N,S,S,3), got {images.dtype} {images.shape}")
    if masks.shape != images.shape[:3]:
        raise ValueError(f"{mpath}: mask shape {masks.shape} does not match images {images.shape}")
    return SplitArrays(images=images, masks=masks.astype(bool, copy=False))


def atomic_save(path: str | Path, array: np.ndarray) -> None:
    """np.save through a temporary file and an atomic rename."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp.npy")
    np.save(tmp, array)
    os.replace(tmp, path)


def save_split(data_dir: str | Path, split: str, images: np.ndarray, masks: np.ndarray) -> None:
    """Write one split atomically (used by build_dataset and by tests that need small fixtures)."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    images = np.ascontiguousarray(images, dtype=np.uint8)
    masks = np.ascontiguousarray(masks, dtype=bool)
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"images must be (N,S,S,3), got {images.shape}")
    if masks.shape != images.shape[:3]:
        raise ValueError(f"masks {masks.shape} do not match images {images.shape}")
    atomic_save(images_path(data_dir, split), images)
    atomic_save(masks_path(data_dir, split), masks)


def load_summary(data_dir: str | Path) -> dict:
    return json.loads((Path(data_dir) / "summary.json").read_text())
