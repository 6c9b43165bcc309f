"""Super-resolution training pairs built from real high-resolution mosaics.

HR = the real pixels of ``results/data/s{H}`` (stitched zoom-23 tiles, no resampling).
LR = HR downsampled by the integer scale with the **antialiased bicubic kernel of MATLAB ``imresize``**: Keys cubic
with a = -0.5, its support widened by the scale factor (so it low-passes before decimating), pixel centres aligned
(half-pixel convention), computed per channel in float32 by PIL's ``Image.resize(BICUBIC)`` on mode-"F" images and
rounded to uint8 once, exactly like a real 8-bit tile. An LR pixel is valid only when all scale² HR pixels under it are.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from rockzoom.data.store import SplitArrays, load_split
from rockzoom.engine.augment import random_dihedral


def downsample_bicubic_aa(image: np.ndarray, scale: int) -> np.ndarray:
    """uint8 or float [0,1] (H, W, 3) -> float32 [0,1] (H/scale, W/scale, 3), antialiased bicubic (see module)."""
    h, w = image.shape[:2]
    if h % scale or w % scale:
        raise ValueError(f"image size {h}x{w} is not divisible by the scale {scale}")
    data = image.astype(np.float32) / 255.0 if image.dtype == np.uint8 else image.astype(np.float32)
    size = (w // scale, h // scale)
    channels = [np.asarray(Image.fromarray(np.ascontiguousarray(data[..., c])).resize(size, Image.Resampling.BICUBIC))
                for c in range(data.shape[2])]
    return np.clip(np.stack(channels, axis=-1), 0.0, 1.0)


def downsample_mask(mask: np.ndarray, scale: int) -> np.ndarray:
    """(.., H, W) bool -> (.., H/scale, W/scale): True only where every covered HR pixel is valid."""
    *lead, h, w = mask.shape
    return mask.reshape(*lead, h // scale, scale, w // scale, scale).all(axis=(-3, -1))


@dataclass(frozen=True)
class SRPairs:
    hr: np.ndarray  # uint8 (N, H, W, 3)
    hr_mask: np.ndarray  # bool (N, H, W)
    lr: np.ndarray  # uint8 (N, H/s, W/s, 3)
    scale: int

    def __len__(self) -> int:
        return len(self.hr)


LR_SOURCES = ("bicubic", "pyramid")


def make_pairs(split: SplitArrays, scale: int, limit: int | None = None,
               coarse_lr: tuple[np.ndarray, np.ndarray] | None = None) -> SRPairs:
    """Decode the HR split into memory with its LR images: computed by the antialiased bicubic kernel, or
    ``coarse_lr`` = (uint8 LR, valid mask) read from the tree's coarser zoom (``superres.pyramid_lr``), whose
    no-data then also masks the HR pixels under it. (The native tiles' softness and noise are given to the LR by
    ``superres.train.degrade_pairs``.)"""
    n = len(split) if limit is None else min(limit, len(split))
    if n == 0:
        raise ValueError("the split has no images to make SR pairs from")
    hr = np.asarray(split.images[:n])
    mask = np.asarray(split.masks[:n], dtype=bool)
    if coarse_lr is None:
        lr = np.stack([np.rint(downsample_bicubic_aa(im, scale) * 255.0).astype(np.uint8) for im in hr])
    else:
        lr, lr_valid = coarse_lr[0][:n], coarse_lr[1][:n]
        if lr.shape[:3] != (n, hr.shape[1] // scale, hr.shape[2] // scale):
            raise ValueError(f"coarse LR of shape {lr.shape} does not match HR {hr.shape} at x{scale}")
        mask = mask & lr_valid.repeat(scale, 1).repeat(scale, 2)
    return SRPairs(hr=hr, hr_mask=mask, lr=lr, scale=scale)


def load_pairs_split(data_dir: str | Path, split: str, scale: int, *, limit: int | None = None,
                     lr_source: str = "bicubic", index_csv: str | Path | None = None) -> SRPairs:
    """SR pairs of one split of a dataset folder; ``lr_source: pyramid`` reads the LR from the coarser zoom of the
    tree that ``index_csv`` indexes."""
    from rockzoom.superres.pyramid_lr import layout_from_index, pyramid_lr, read_samples

    if lr_source not in LR_SOURCES:
        raise ValueError(f"sr.train.lr_source must be one of {LR_SOURCES}, got {lr_source!r}")
    arrays = load_split(data_dir, split)
    if lr_source == "bicubic":
        return make_pairs(arrays, scale, limit)
    if index_csv is None:
        raise ValueError("lr_source: pyramid needs the tile index (index_csv) to find the coarser zoom")
    samples = read_samples(data_dir, split)
    if limit is not None:
        samples = samples[:limit]
    return make_pairs(arrays, scale, limit, coarse_lr=pyramid_lr(samples, layout_from_index(index_csv), scale))


def sample_patches(pairs: SRPairs, lr_patch: int, batch_size: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
    """Random aligned LR/HR patches (float [0,1], NCHW) with one random dihedral transform each, plus HR masks."""
    s = pairs.scale
    n, lh, lw = pairs.lr.shape[:3]
    if lr_patch > min(lh, lw):
        raise ValueError(f"lr_patch {lr_patch} is larger than the LR images ({lh}x{lw})")
    idx = torch.randint(0, n, (batch_size,), generator=generator).tolist()
    ys = torch.randint(0, lh - lr_patch + 1, (batch_size,), generator=generator).tolist()
    xs = torch.randint(0, lw - lr_patch + 1, (batch_size,), generator=generator).tolist()
    lr = np.stack([pairs.lr[i, y:y + lr_patch, x:x + lr_patch] for i, y, x in zip(idx, ys, xs)])
    hr = np.stack([pairs.hr[i, y * s:(y + lr_patch) * s, x * s:(x + lr_patch) * s] for i, y, x in zip(idx, ys, xs)])
    mask = np.stack([pairs.hr_mask[i, y * s:(y + lr_patch) * s, x * s:(x + lr_patch) * s]
                     for i, y, x in zip(idx, ys, xs)])
    lr_t = torch.from_numpy(lr).permute(0, 3, 1, 2).float().div_(255.0)
    hr_t = torch.from_numpy(hr).permute(0, 3, 1, 2).float().div_(255.0)
    mask_t = torch.from_numpy(mask)[:, None].float()
    lr_t, hr_t, mask_t = random_dihedral(lr_t, hr_t, mask_t, generator=generator)
    return {"lr": lr_t, "hr": hr_t, "mask": mask_t}
