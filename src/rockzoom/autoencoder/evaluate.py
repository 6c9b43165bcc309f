"""eval_ae: reconstruction quality on a held-out split, next to the mean-colour and 13x13x3 thumbnail baselines."""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np
from PIL import Image

from rockzoom.autoencoder.baselines import mean_colour_baseline, thumbnail_baseline
from rockzoom.autoencoder.inference import load_autoencoder, reconstruct_array
from rockzoom.data.store import load_split
from rockzoom.metrics.fidelity import evaluate

logger = logging.getLogger(__name__)

DARK_LEVEL = 20  # input pixels at or below this (all channels, /255) count as shadow


def dark_pixel_stats(pred: np.ndarray, target: np.ndarray, masks: np.ndarray) -> dict:
    """How shadows come back: the original decoder could not go below 117/255."""
    dark = (target.max(axis=-1) <= DARK_LEVEL) & masks
    stats = {"dark_pixels": int(dark.sum()), "output_min": int(pred.min()), "output_max": int(pred.max()),
             "target_min": int(target.min()), "target_max": int(target.max())}
    if dark.any():
        stats["dark_target_mean"] = float(target[dark].mean())
        stats["dark_output_mean"] = float(pred[dark].mean())
    return stats


def save_grid(rows: list[np.ndarray], path: Path, columns: int = 8, cell: int = 256) -> None:
    """One row per method (originals first), ``columns`` tiles each, cells downscaled to at most ``cell`` px."""
    n = min(columns, len(rows[0]))
    side = min(cell, rows[0].shape[1])
    canvas = Image.new("RGB", (n * side, len(rows) * side), "white")
    for r, images in enumerate(rows):
        for c in range(n):
            tile = Image.fromarray(images[c])
            if tile.size[0] != side:
                tile = tile.resize((side, side), Image.LANCZOS)
            canvas.paste(tile, (c * side, r * side))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    canvas.save(tmp)
    os.replace(tmp, path)


def eval_autoencoder(model_path: str | Path, data_dir: str | Path, metrics_json: str | Path, grid_png: str | Path,
                     *, split: str = "test", seed: int = 0, device: str = "auto") -> dict:
    model, ckpt = load_autoencoder(model_path, device)
    data = load_split(data_dir, split)
    if len(data) == 0:
        raise ValueError(f"{data_dir}: split {split!r} is empty")
    if data.size != model.img_size:
        raise ValueError(f"{model_path} was trained at {model.img_size} px but {data_dir} holds {data.size} px tiles")
    images, masks = np.asarray(data.images), np.asarray(data.masks)
    recon = reconstruct_array(model, images)
    methods = {
        "autoencoder": recon,
        "thumbnail_13x13x3": thumbnail_baseline(images, masks),
        "mean_colour": mean_colour_baseline(images, masks),
    }
    table = {name: evaluate(pred, images, masks, border=0, seed=seed) for name, pred in methods.items()}
    result = {
        "model": str(model_path), "split": split, "n": len(images), "img_size": model.img_size,
        "latent_dim": model.latent_dim, "checkpoint_step": ckpt["step"], "best_val": ckpt["best_val"],
        "metrics": table, "autoencoder_range": dark_pixel_stats(recon, images, masks),
    }
    metrics_json = Path(metrics_json)
    metrics_json.parent.mkdir(parents=True, exist_ok=True)
    metrics_json.write_text(json.dumps(result, indent=2))
    save_grid([images, recon, methods["thumbnail_13x13x3"]], Path(grid_png))
    for name, row in table.items():
        logger.info(f"{split} {name:18s} PSNR pooled {row['psnr_pooled']:.2f} dB, mean {row['psnr_mean']:.2f} "
                    f"[{row['psnr_ci_low']:.2f}, {row['psnr_ci_high']:.2f}], SSIM {row['ssim']:.3f} (n={row['n']})")
    return result
