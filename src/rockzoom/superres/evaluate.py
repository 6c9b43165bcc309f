"""The SR evaluation stage: every upscaler (bicubic, Lanczos, each trained net) through one evaluator on the test split.

LR inputs are made from the test HR mosaics with the training kernel (``rockzoom.superres.data``). Reported per method:
PSNR RGB and Y (border crop = scale, masked; pooled and mean with bootstrap 95% CI), SSIM, spectrum distance and
high-frequency energy ratio to the real HR (energy above the LR Nyquist frequency, 0.5/scale cycles/px: the detail
the LR could not carry), ms per image (whole image, batch 1, first call excluded) and the peak extra memory of one
call (RSS growth in a fresh process on CPU, max allocated on CUDA).
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image, ImageDraw

from rockzoom.metrics.fidelity import evaluate
from rockzoom.metrics.spectrum import hf_energy_ratio, spectrum_distance
from rockzoom.models.registry import count_parameters
from rockzoom.superres.data import SRPairs, load_pairs_split
from rockzoom.superres.upscale import NetUpscaler, Upscaler, build_upscaler
from rockzoom.util.devices import acquire_gpus
from rockzoom.util.memory import peak_extra_bytes

logger = logging.getLogger(__name__)

COLUMNS = ["method", "lr_source", "params", "n", "psnr_pooled", "psnr_mean", "psnr_ci_low", "psnr_ci_high", "psnr_y_pooled",
           "psnr_y_mean", "ssim", "spectrum_distance_db", "hf_energy_ratio", "ms_per_image", "peak_mem_mb"]


def _prepare_upscale(spec: dict, image: np.ndarray):
    upscaler = build_upscaler(**spec)
    return lambda: upscaler.upscale(image)


def run_upscaler(upscaler: Upscaler, pairs: SRPairs, spec: dict | None = None) -> tuple[np.ndarray, float, float]:
    """-> (float32 predictions (N,H,W,3), mean ms per image, peak extra memory in MiB of one call).

    Memory: max allocated on CUDA; on CPU the RSS growth of one call in a fresh process (needs ``spec``, the
    ``build_upscaler`` arguments; NaN without it).
    """
    lr = pairs.lr.astype(np.float32) / 255.0
    cuda = isinstance(upscaler, NetUpscaler) and upscaler.device.type == "cuda"
    upscaler.upscale(lr[0])  # warm-up (allocator, oneDNN kernels) is not timed
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    preds = np.empty(pairs.hr.shape, np.float32)
    seconds = 0.0
    for i in range(len(lr)):
        t0 = time.perf_counter()
        preds[i] = upscaler.upscale(lr[i])
        if cuda:
            torch.cuda.synchronize()
        seconds += time.perf_counter() - t0
    if cuda:
        peak = torch.cuda.max_memory_allocated() - base
    elif spec is not None:
        peak = peak_extra_bytes(_prepare_upscale, spec, lr[0])
    else:
        peak = float("nan")
    return preds, 1000.0 * seconds / len(lr), peak / 2**20


def wrap_label(text: str, width: int, draw: ImageDraw.ImageDraw) -> list[str]:
    """Split a panel title into lines no wider than the panel (at word boundaries) so titles never overlap."""
    lines = [""]
    for word in text.split():
        candidate = f"{lines[-1]} {word}".strip()
        if lines[-1] and draw.textlength(candidate) > width:
            lines.append(word)
        else:
            lines[-1] = candidate
    return lines


def crop_grid(pairs: SRPairs, named_preds: dict[str, np.ndarray], path: str | Path, n_rows: int = 4,
              crop: int = 128, seed: int = 0) -> None:
    """Side-by-side crops: HR | each method, one row per test image (crops placed at random valid spots)."""
    rng = np.random.default_rng(seed)
    h, w = pairs.hr.shape[1:3]
    crop = min(crop, h, w)
    rows = []
    for i in rng.choice(len(pairs), size=min(n_rows, len(pairs)), replace=False):
        for _ in range(20):
            y, x = int(rng.integers(0, h - crop + 1)), int(rng.integers(0, w - crop + 1))
            if pairs.hr_mask[i, y:y + crop, x:x + crop].all():
                break
        panels = [pairs.hr[i, y:y + crop, x:x + crop]]
        panels += [np.rint(p[i, y:y + crop, x:x + crop] * 255).astype(np.uint8) for p in named_preds.values()]
        rows.append(np.concatenate([np.pad(p, ((2, 2), (2, 2), (0, 0)), constant_values=255) for p in panels], 1))
    names = ["HR (real)", *named_preds]
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    labels = [wrap_label(name, crop, measure) for name in names]
    label_h = 4 + 12 * max(len(lines) for lines in labels)
    grid = np.concatenate([np.full((label_h, rows[0].shape[1], 3), 255, np.uint8), *rows], 0)
    image = Image.fromarray(grid)
    draw = ImageDraw.Draw(image)
    for j, lines in enumerate(labels):
        draw.text((j * (crop + 4) + 4, 2), "\n".join(lines), fill=(0, 0, 0), spacing=2)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


def eval_sr(data_dir: str | Path, *, scale: int, models: list[str | Path], table_csv: str | Path,
            crops_png: str | Path, methods: tuple[str, ...] = ("bicubic", "lanczos"), max_images: int | None = None,
            seed: int = 0, device: str = "auto", gpus: int = 0, measure_memory: bool = True,
            lr_sources: tuple[str, ...] = ("bicubic",), index_csv: str | Path | None = None,
            self_ensemble: bool = False) -> pd.DataFrame:
    """Evaluate classical ``methods`` and every checkpoint in ``models`` on the test split, once per LR kind in
    ``lr_sources`` (``bicubic``: computed; ``pyramid``: the tree's coarser zoom, needs ``index_csv``); with
    ``self_ensemble`` each net is also evaluated with its x8 geometric self-ensemble. Writes csv + png (the crops
    of the first LR kind)."""
    acquire_gpus(gpus)
    specs = [{"method": m, "scale": scale} for m in methods]
    for path in models:
        specs.append({"checkpoint": str(path), "scale": scale, "device": device})
        if self_ensemble:
            specs.append({"checkpoint": str(path), "scale": scale, "device": device, "self_ensemble": True})
    rows, crops, crop_pairs = [], {}, None
    for lr_source in lr_sources:
        pairs = load_pairs_split(data_dir, "test", scale, limit=max_images, lr_source=lr_source, index_csv=index_csv)
        logger.info(f"eval SR x{scale}: {len(pairs)} test images of {pairs.hr.shape[1]} px (LR {pairs.lr.shape[1]} "
                    f"px from {lr_source})")
        for spec in specs:
            up = build_upscaler(**spec)
            preds, ms, mem_mb = run_upscaler(up, pairs, spec if measure_memory else None)
            scores = evaluate(preds, pairs.hr, pairs.hr_mask, border=scale, seed=seed)
            row = {"method": up.name, "lr_source": lr_source,
                   "params": count_parameters(up.model) if isinstance(up, NetUpscaler) else 0,
                   **scores, "spectrum_distance_db": spectrum_distance(preds, pairs.hr),
                   "hf_energy_ratio": hf_energy_ratio(preds, pairs.hr, cutoff=0.5 / scale), "ms_per_image": ms,
                   "peak_mem_mb": mem_mb}
            rows.append(row)
            if crop_pairs is None or crop_pairs is pairs:
                crop_pairs, crops[up.name] = pairs, preds
            logger.info(f"{up.name:>24} ({lr_source} LR): PSNR {row['psnr_pooled']:.2f} dB (mean "
                        f"{row['psnr_mean']:.2f} [{row['psnr_ci_low']:.2f}, {row['psnr_ci_high']:.2f}]), Y "
                        f"{row['psnr_y_pooled']:.2f}, SSIM {row['ssim']:.4f}, spectrum "
                        f"{row['spectrum_distance_db']:.2f} dB, HF {row['hf_energy_ratio']:.3f}, {ms:.1f} ms/image, "
                        f"+{mem_mb:.0f} MB")
    table = pd.DataFrame(rows)[COLUMNS]
    Path(table_csv).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(table_csv, index=False, float_format="%.4f")
    crop_grid(crop_pairs, crops, crops_png, seed=seed)
    return table
