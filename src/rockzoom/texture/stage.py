"""The detail stage's two steps as the workflow runs them: patch banks from a training split (built once, cached as a
rule output), and detail synthesis on a batch of coarse samples."""
from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from rockzoom.data.store import load_split
from rockzoom.texture.patch_synthesis import LAYOUT_VIEW, PatchBanks, build_banks, layout_psnr, synthesize

logger = logging.getLogger(__name__)


def build_patch_banks(data_dir: str | Path, out_path: str | Path, *, levels: int, factor: float, patch: int,
                      bank_size: int, seed: int, quilt_tiles: int = 0, max_tiles: int | None = None) -> PatchBanks:
    """Banks from the train split of ``data_dir`` only (held-out tiles never enter them), read from its memory map
    tile by tile."""
    train = load_split(data_dir, "train")
    if len(train.images) == 0:
        raise ValueError(f"{data_dir}: the train split is empty; no patches to build banks from")
    t0 = time.perf_counter()
    banks = build_banks(train.images, train.masks, levels=levels, factor=factor, patch=patch, bank_size=bank_size,
                        seed=seed, quilt_tiles=quilt_tiles, max_tiles=max_tiles)
    banks.info.update(source=str(data_dir), split="train")
    banks.save(out_path)
    logger.info("patch banks: %d levels x up to %d patches of %d px from %d of the %d training tiles of %s in %.1f s",
                levels, bank_size, patch, banks.info["n_bank_images"], len(train.images), data_dir,
                time.perf_counter() - t0)
    return banks


def add_detail(images: np.ndarray, banks: PatchBanks, *, seed: int, synthesis: dict) -> np.ndarray:
    """Each coarse sample (uint8 (N, H, W, 3)) through the patch synthesis, seeded per sample."""
    out = []
    for i, image in enumerate(images):
        t0 = time.perf_counter()
        out.append(synthesize(image, banks, seed=seed * 100_003 + i, **synthesis))
        logger.info("detail %d/%d in %.1f s", i + 1, len(images), time.perf_counter() - t0)
    return np.stack(out)


def layout_summary(detailed: np.ndarray, starts: np.ndarray, view: int = LAYOUT_VIEW) -> dict:
    """How well the detail kept each start's layout: layout_psnr of each result against its start (dB)."""
    db = [layout_psnr(d, s, view=view) for d, s in zip(detailed, starts)]
    return {"view": view, "psnr_db": [round(v, 2) for v in db], "mean_db": float(np.mean(db)),
            "min_db": float(np.min(db))}
