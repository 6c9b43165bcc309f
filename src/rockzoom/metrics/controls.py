"""Positive controls for the realism judges: real tiles damaged in the ways a person spots at once.

Each control is built from real tiles only, so a judge that cannot tell it from real ground has no power to see that
kind of defect in a generator either. Inputs and outputs are uint8 (N, H, W, 3); every function is seeded.

- ``block_shuffle``: each tile reassembled from ``block`` px blocks of *other* tiles, at the same positions (the
  colours and textures are real, the block edges are not);
- ``blur``: box-averaged ``factor`` x and Lanczos-upscaled back (the look of an upscaler that paints blur);
- ``seam_quilt``: each tile rebuilt by guided image quilting from ``block`` px blocks of the *other* tiles, cut into
  place along minimum-error seams (Efros and Freeman 2001) and following the tile's own layout: the "shattered
  glass" a person reports, facets of different stones side by side with no whole boulder;
- ``misplaced_detail``: each tile's own coarse look (``blur``) plus the fine detail (tile minus its ``blur``) of
  another tile: real detail in real amounts, drawn across the tile's stones instead of on them (the ghost outlines a
  person sees where an upscaler pastes detail from elsewhere). Not in the default power checks: neither family has
  power against it yet (docs/superres.md).
"""
from __future__ import annotations

import numpy as np
import torch
from PIL import Image

CONTROLS = ("block_shuffle", "blur", "seam_quilt", "misplaced_detail")


def _check(images) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
        raise ValueError(f"controls need uint8 (N, H, W, 3) images, got {images.dtype} {images.shape}")
    if len(images) < 2:
        raise ValueError(f"controls need at least 2 tiles (blocks come from other tiles), got {len(images)}")
    return images


def block_shuffle(images, *, block: int = 16, seed: int = 0) -> np.ndarray:
    """Every ``block`` px cell of tile i replaced by the same cell of a random other tile."""
    images = _check(images)
    n, h, w = images.shape[:3]
    if h % block or w % block:
        raise ValueError(f"block_shuffle: {h}x{w} tiles are not a whole number of {block} px blocks")
    rng = np.random.default_rng(seed)
    out = np.empty_like(images)
    for i in range(n):
        for y in range(0, h, block):
            for x in range(0, w, block):
                j = (i + 1 + int(rng.integers(0, n - 1))) % n  # any tile but i
                out[i, y:y + block, x:x + block] = images[j, y:y + block, x:x + block]
    return out


def blur(images, *, factor: int = 4) -> np.ndarray:
    """Box-average ``factor`` x (exact means of factor x factor cells), then Lanczos back to the tile size."""
    images = _check(images)
    n, h, w = images.shape[:3]
    if h % factor or w % factor:
        raise ValueError(f"blur: {h}x{w} tiles do not divide by {factor}")
    small = images.reshape(n, h // factor, factor, w // factor, factor, 3).mean((2, 4))
    small = np.rint(small).astype(np.uint8)
    return np.stack([np.asarray(Image.fromarray(s).resize((w, h), Image.Resampling.LANCZOS)) for s in small])


def misplaced_detail(images, *, factor: int = 4, seed: int = 0) -> np.ndarray:
    """Tile i's ``blur`` plus (tile j - tile j's ``blur``) for a random other tile j."""
    images = _check(images)
    n = len(images)
    coarse = blur(images, factor=factor).astype(np.int16)
    detail = images.astype(np.int16) - coarse
    rng = np.random.default_rng(seed)
    other = (np.arange(n) + 1 + rng.integers(0, n - 1, n)) % n  # any tile but i
    return np.clip(coarse + detail[other], 0, 255).astype(np.uint8)


def seam_quilt(images, *, block: int = 32, overlap: int = 8, candidates: int = 32, seed: int = 0) -> np.ndarray:
    """Each tile of one half rebuilt by guided quilting from ``block`` px blocks of the other half (and back)."""
    from rockzoom.texture.quilting import QuiltSource, quilt

    images = _check(images)
    n = len(images)
    order = np.random.default_rng(seed).permutation(n)
    halves = (order[: n // 2], order[n // 2:])
    out = np.empty_like(images)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # many tiny tensor ops: extra threads only spin
    try:
        for k, (targets, sources) in enumerate((halves, halves[::-1])):
            source = QuiltSource.build(images[sources], block=block, cell=block // 4, stride=block // 2,
                                       max_candidates=65536, seed=seed + k)
            for i in targets:
                out[i] = quilt(images[i], source, overlap=overlap, candidates=candidates, seed=seed + int(i))
    finally:
        torch.set_num_threads(threads)
    return out


def make_control(name: str, images, *, seed: int = 0) -> np.ndarray:
    """One of ``CONTROLS`` with its default settings."""
    if name == "block_shuffle":
        return block_shuffle(images, seed=seed)
    if name == "blur":
        return blur(images)
    if name == "seam_quilt":
        return seam_quilt(images, seed=seed)
    if name == "misplaced_detail":
        return misplaced_detail(images, seed=seed)
    raise ValueError(f"unknown control {name!r}; expected one of {CONTROLS}")
