"""The comparison table: every method and full pipeline scored on the held-out test split by one evaluator.

A row is a spec dict: name, data_dir (results/data/s{HR}), scale, and the chain that maps the LR input (the test HR
image downsampled by `scale` with the SR training kernel) to an HR-sized prediction:
  {"ae": path | None, "upscale": None | {"method": "bicubic" | "lanczos"} | {"checkpoint": SR checkpoint path},
   "refine": None | {model, steps, seed, patch, overlap, batch}}
plus `train_benchmarks` (Snakemake benchmark TSVs of the training jobs behind the row, for the training-time column).
Native AE rows have scale 1 (reconstruct the real tile); pipeline rows chain AE then SR, as generation does.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

from rockzoom.autoencoder.inference import load_autoencoder, reconstruct_array  # noqa: E402
from rockzoom.data.store import load_split  # noqa: E402
from rockzoom.metrics.fidelity import evaluate  # noqa: E402
from rockzoom.metrics.spectrum import (  # noqa: E402
    hf_energy_ratio,
    radial_power_spectrum,
    spectrum_distance,
)
from rockzoom.metrics.texture import swd  # noqa: E402
from rockzoom.refiner.inference import Refiner  # noqa: E402
from rockzoom.superres.data import make_pairs  # noqa: E402
from rockzoom.superres.evaluate import crop_grid, run_upscaler  # noqa: E402
from rockzoom.superres.upscale import (  # noqa: E402
    NetUpscaler,
    Upscaler,
    build_upscaler,
    upscale_tiled,
)
from rockzoom.util.memory import peak_extra_bytes  # noqa: E402
from rockzoom.util.provenance import machine_description  # noqa: E402

logger = logging.getLogger(__name__)

COLUMNS = ["method", "resolution", "n", "psnr_pooled", "psnr_mean", "psnr_ci_low", "psnr_ci_high", "psnr_y_pooled",
           "psnr_y_mean", "ssim", "spectrum_distance_db", "hf_energy_ratio", "swd", "ms_per_image", "peak_mem_mb",
           "train_minutes"]


class AutoencoderStep(Upscaler):
    """Scale-1 'upscaler' that passes an image through the autoencoder (encode -> 512 floats -> decode)."""

    def __init__(self, path: str | Path, device: str = "auto"):
        self.model, _ = load_autoencoder(path, device)
        self.scale, self.name = 1, f"AE {self.model.img_size}"

    def upscale(self, image: np.ndarray) -> np.ndarray:
        if image.shape[0] != self.model.img_size:
            raise ValueError(f"the AE takes {self.model.img_size}px images, got {image.shape[0]}px")
        u8 = np.rint(np.clip(image, 0, 1) * 255).astype(np.uint8)[None]
        return reconstruct_array(self.model, u8)[0].astype(np.float32) / 255.0


class Chain(Upscaler):
    """Steps applied in order; SR steps run tiled so a 2048 px output stays within the tile's memory."""

    def __init__(self, steps: list[Upscaler], name: str):
        self.steps, self.name = steps, name
        self.scale = int(np.prod([s.scale for s in steps]))
        self.device = next((s.device for s in steps if isinstance(s, NetUpscaler)), torch.device("cpu"))

    def upscale(self, image: np.ndarray) -> np.ndarray:
        for step in self.steps:
            image = step.upscale(image) if step.scale == 1 else upscale_tiled(step, image, tile=256, overlap=16)
        return image


def build_chain(spec: dict, device: str) -> Chain:
    steps: list[Upscaler] = []
    if spec.get("ae"):
        steps.append(AutoencoderStep(spec["ae"], device))
    if spec.get("upscale"):
        steps.append(build_upscaler(**spec["upscale"], scale=spec["scale"], device=device))
    if spec.get("refine"):
        r = spec["refine"]
        steps.append(Refiner.from_checkpoint(r["model"], steps=r["steps"], patch=r["patch"], overlap=r["overlap"],
                                             batch=r["batch"], seed=r.get("seed", 0), device=device))
    if not steps:
        raise ValueError(f"benchmark row {spec['name']!r} has neither an AE nor an upscaler")
    return Chain(steps, spec["name"])


def _prepare_chain(spec: dict, device: str, image: np.ndarray):
    chain = build_chain(spec, device)
    return lambda: chain.upscale(image)


def peak_memory_mb(chain: Chain, spec: dict, device: str, image: np.ndarray) -> float:
    """Peak extra memory of one call: max allocated VRAM on CUDA, else RSS growth in a fresh process."""
    if chain.device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        chain.upscale(image)
        torch.cuda.synchronize()
        return (torch.cuda.max_memory_allocated() - base) / 2**20
    return peak_extra_bytes(_prepare_chain, spec, device, image) / 2**20


def training_minutes(tsvs: list[str]) -> float | None:
    if not tsvs:
        return None
    total = 0.0
    for path in tsvs:
        table = pd.read_csv(path, sep="\t")
        total += float(table["s"].iloc[-1])
    return total / 60.0


def format_markdown(table: pd.DataFrame, machine: dict) -> str:
    def fmt(v, nd=2):
        return "–" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.{nd}f}"

    lines = [
        "| method | resolution | n | PSNR pooled (dB) | PSNR mean [95% CI] | Y-PSNR pooled | SSIM | spectrum dist. (dB) "
        "| HF ratio | SWD ×1e3 | ms/image | peak mem (MB) | training (min) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in table.to_dict("records"):
        lines.append(
            f"| {r['method']} | {r['resolution']} | {r['n']} | {fmt(r['psnr_pooled'])} | {fmt(r['psnr_mean'])} "
            f"[{fmt(r['psnr_ci_low'])}, {fmt(r['psnr_ci_high'])}] | {fmt(r['psnr_y_pooled'])} | {fmt(r['ssim'], 4)} "
            f"| {fmt(r['spectrum_distance_db'])} | {fmt(r['hf_energy_ratio'], 3)} | {fmt(r['swd'], 1)} "
            f"| {fmt(r['ms_per_image'], 0)} "
            f"| {fmt(r['peak_mem_mb'], 0)} | {fmt(r['train_minutes'], 1)} |")
    device = machine.get("gpu") or machine.get("cpu")
    lines.append("")
    lines.append(f"Measured on {device} ({machine.get('cpu_count')} CPU threads, torch {machine.get('torch')}); "
                 f"held-out test split; PSNR on RGB [0,255], masked, border crop = scale.")
    return "\n".join(lines) + "\n"


def plot_psnr(table: pd.DataFrame, path: str | Path) -> None:
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(table) + 1.5))
    y = np.arange(len(table))
    ax.barh(y, table["psnr_pooled"], color="#8aa6c1", label="pooled PSNR")
    err = np.vstack([table["psnr_mean"] - table["psnr_ci_low"], table["psnr_ci_high"] - table["psnr_mean"]])
    ax.errorbar(table["psnr_mean"], y, xerr=err, fmt="o", color="k", ms=3, capsize=3, label="mean, 95% CI")
    ax.set_yticks(y, [f"{m} ({r})" for m, r in zip(table["method"], table["resolution"])], fontsize=8)
    ax.invert_yaxis()
    low = np.nanmin(table["psnr_ci_low"].to_numpy(dtype=float))
    ax.set_xlim(max(0, low - 3), None)
    ax.set_xlabel("PSNR on the held-out test split (dB, RGB)")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_spectra(spectra: dict[str, tuple[np.ndarray, np.ndarray]], path: str | Path) -> None:
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, (freq, power) in spectra.items():
        style = dict(color="k", lw=2.2) if name.startswith("real") else dict(lw=1.2)
        ax.semilogy(freq, power, label=name, **style)
    ax.set_xlabel("spatial frequency (cycles / pixel)")
    ax.set_ylabel("radially averaged power")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run_benchmark(rows: list[dict], *, table_csv: str | Path, table_md: str | Path, psnr_png: str | Path,
                  spectrum_png: str | Path, crops_png: str | Path, machine_json: str | Path,
                  max_images: int | None = None, seed: int = 0, device: str = "auto") -> pd.DataFrame:
    results, by_size = [], {}
    for spec in rows:
        chain = build_chain(spec, device)
        pairs = make_pairs(load_split(spec["data_dir"], "test"), spec["scale"], limit=max_images)
        preds, ms, _ = run_upscaler(chain, pairs)
        mem_mb = peak_memory_mb(chain, spec, device, pairs.lr[0].astype(np.float32) / 255.0)
        border = spec["scale"] if spec["scale"] > 1 else 0
        scores = evaluate(preds, pairs.hr, pairs.hr_mask, border=border, seed=seed)
        size = pairs.hr.shape[1]
        row = {"method": spec["name"], "resolution": f"{pairs.lr.shape[1]}→{size}" if spec["scale"] > 1 else str(size),
               **scores, "spectrum_distance_db": spectrum_distance(preds, pairs.hr),
               "hf_energy_ratio": hf_energy_ratio(preds, pairs.hr, cutoff=0.5 / max(2, spec["scale"])),
               "swd": swd(preds, pairs.hr, pairs.hr_mask, seed=seed)["swd"],
               "ms_per_image": ms, "peak_mem_mb": mem_mb,
               "train_minutes": training_minutes(spec.get("train_benchmarks", []))}
        results.append(row)
        group = by_size.setdefault(size, {"pairs": pairs, "preds": {}})
        if len(group["preds"]) < 6 and len(pairs) == len(group["pairs"]):
            group["preds"][spec["name"]] = preds
        logger.info(f"{spec['name']:>40} {row['resolution']:>10}: PSNR {row['psnr_pooled']:.2f} dB "
                    f"(mean {row['psnr_mean']:.2f} [{row['psnr_ci_low']:.2f}, {row['psnr_ci_high']:.2f}]), "
                    f"SSIM {row['ssim']:.4f}, spectrum {row['spectrum_distance_db']:.2f} dB, {ms:.0f} ms/image, "
                    f"+{mem_mb:.0f} MB, n={row['n']}")
    table = pd.DataFrame(results)[COLUMNS]
    machine = machine_description()
    for p in (table_csv, table_md, psnr_png, spectrum_png, crops_png, machine_json):
        Path(p).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(table_csv, index=False, float_format="%.4f")
    Path(table_md).write_text(format_markdown(table, machine))
    Path(machine_json).write_text(json.dumps(machine, indent=2))
    plot_psnr(table, psnr_png)
    # Spectra and crops at the largest output size that has predictions of several methods.
    size = max(by_size, key=lambda s: (len(by_size[s]["preds"]), s))
    group = by_size[size]
    spectra = {f"real {size}px": radial_power_spectrum(group["pairs"].hr)}
    spectra.update({name: radial_power_spectrum(p) for name, p in group["preds"].items()})
    plot_spectra(spectra, spectrum_png)
    crop_grid(group["pairs"], group["preds"], crops_png, seed=seed)
    return table
