"""The AE variant comparison at one size: native vs progressive vs multi-scale on the held-out test split.

Each row: test PSNR (pooled, mean with 95% CI), SSIM, spectrum distance to the real tiles, images seen in training
and training time (sum of the Snakemake benchmark TSVs of the jobs behind the row). For multi-scale models the
PSNR with encoder skips is added in its own column: it is not a 512-float reconstruction.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from rockzoom.autoencoder.inference import load_autoencoder, reconstruct_array, to_uint8
from rockzoom.autoencoder.task import to_tensor
from rockzoom.data.store import load_split
from rockzoom.metrics.fidelity import evaluate
from rockzoom.metrics.spectrum import spectrum_distance

logger = logging.getLogger(__name__)

COLUMNS = ["method", "size", "n", "images_seen", "train_minutes", "psnr_pooled", "psnr_mean", "psnr_ci_low",
           "psnr_ci_high", "ssim", "spectrum_distance_db", "psnr_with_skips", "best_step"]


def train_minutes(tsvs: list[str]) -> float | None:
    total = 0.0
    for path in tsvs:
        if not Path(path).exists():
            return None
        total += float(pd.read_csv(path, sep="\t")["s"].iloc[-1])
    return total / 60.0 if tsvs else None


@torch.no_grad()
def reconstruct_with_skips(model, images: np.ndarray, batch_size: int = 8) -> np.ndarray:
    device = next(model.parameters()).device
    return np.concatenate([to_uint8(model(to_tensor(images[i : i + batch_size]).to(device), skips=True).float())
                           for i in range(0, len(images), batch_size)])


def compare_variants(rows: list[dict], data_dir: str | Path, table_csv: str | Path, table_md: str | Path, *,
                     seed: int = 0, device: str = "auto", max_images: int | None = None) -> pd.DataFrame:
    data = load_split(data_dir, "test")
    n = len(data) if max_images is None else min(max_images, len(data))
    images, masks = np.asarray(data.images[:n]), np.asarray(data.masks[:n])
    results = []
    for row in rows:
        model, ckpt = load_autoencoder(row["ae"], device)
        recon = reconstruct_array(model, images)
        scores = evaluate(recon, images, masks, border=0, seed=seed)
        skips = None
        if getattr(model, "has_skips", False):
            skips = evaluate(reconstruct_with_skips(model, images), images, masks, border=0, seed=seed,
                             with_ssim=False)["psnr_pooled"]
        results.append({"method": row["name"], "size": data.size, "n": n, "images_seen": row.get("images_seen"),
                         "train_minutes": train_minutes(row.get("train_benchmarks", [])), **scores,
                         "spectrum_distance_db": spectrum_distance(recon, images), "psnr_with_skips": skips,
                         "best_step": ckpt["step"]})
        r = results[-1]
        logger.info(f"{row['name']:>40}: PSNR {r['psnr_pooled']:.2f} dB (mean {r['psnr_mean']:.2f} "
                    f"[{r['psnr_ci_low']:.2f}, {r['psnr_ci_high']:.2f}]), SSIM {r['ssim']:.4f}, "
                    f"spectrum {r['spectrum_distance_db']:.2f} dB, "
                    f"{r['images_seen']} images, {r['train_minutes'] or float('nan'):.1f} min"
                    + (f", with skips {skips:.2f} dB" if skips is not None else ""))
    table = pd.DataFrame(results)[COLUMNS]
    for p in (table_csv, table_md):
        Path(p).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(table_csv, index=False, float_format="%.4f")
    Path(table_md).write_text(format_markdown(table))
    return table


def format_markdown(table: pd.DataFrame) -> str:
    def fmt(v, nd=2):
        return "–" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.{nd}f}"

    lines = ["| method | size | n | images seen | training (min) | PSNR pooled (dB) | PSNR mean [95% CI] | SSIM "
             "| spectrum dist. (dB) | PSNR with skips (dB) |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in table.to_dict("records"):
        lines.append(f"| {r['method']} | {r['size']} | {r['n']} | {r['images_seen']} | {fmt(r['train_minutes'], 1)} "
                     f"| {fmt(r['psnr_pooled'])} | {fmt(r['psnr_mean'])} [{fmt(r['psnr_ci_low'])}, "
                     f"{fmt(r['psnr_ci_high'])}] | {fmt(r['ssim'], 4)} | {fmt(r['spectrum_distance_db'])} "
                     f"| {fmt(r['psnr_with_skips'])} |")
    lines += ["", "Held-out test split; PSNR on RGB [0,255], masked, no border crop. 'PSNR with skips' uses the "
              "multi-scale encoder's features besides the latent: it is not a 512-float reconstruction."]
    return "\n".join(lines) + "\n"
