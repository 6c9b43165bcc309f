"""Realism where the user sees it: the benchmark's realism table, and each generated option's realism figures and
"real or generated" sheet.

The table has two blocks, each judged against real held-out tiles of the same pixel size, with PSNR/SSIM beside the
realism figures where a ground truth exists:
- *generators at their native size*: real vs real (training split against the held-out tiles, the floor no generator
  can beat), AE samples per sampler, AE samples with the detail stage. The held-out reference is the val and test
  splits together (``realism.heldout_splits``): on a small tree a single test split is a few blocks of one kind of
  ground, and every generator learns from the training blocks only;
- *upscalers x k on real inputs*: LR = the real test HR downsampled by k, judged against that HR.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from rockzoom.data.store import load_split  # noqa: E402
from rockzoom.generation.benchmark import build_chain  # noqa: E402
from rockzoom.metrics.fidelity import evaluate  # noqa: E402
from rockzoom.metrics.realism import (  # noqa: E402
    TooFewImages,
    real_or_generated_sheet,
    real_vs_real,
    realism_report,
)
from rockzoom.superres.data import make_pairs  # noqa: E402
from rockzoom.superres.evaluate import run_upscaler  # noqa: E402
from rockzoom.texture.stage import layout_summary  # noqa: E402

logger = logging.getLogger(__name__)

COLUMNS = ["block", "method", "size", "n", "c2st", "c2st_ci_low", "c2st_ci_high", "kid", "kid_std", "swd_own",
           "swd_ref", "spectrum_distance_db", "hf_energy_ratio", "patch_copy_32", "patch_copy_64", "ct_32",
           "layout_db", "layout_min_db", "psnr", "ssim", "seconds_per_image"]
GENERATORS, UPSCALERS = "generators at their native size", "upscalers on real inputs"
BLOCK_NOTES = {
    GENERATORS: "against real held-out tiles of the same size; real vs real is the floor",
    UPSCALERS: "LR = the real held-out tiles downsampled, judged against those same tiles: KID and SWD compare each "
               "output with its own source, so they sit below the generators' real-vs-real floor; C2ST does not pair",
}
CROSS_SCALE_NOTE = ("output finer than the survey's resolution: no real image exists at that scale, so it is compared "
                    "with real mosaics of the same pixel size (this assumes the ground looks alike across scales)")


def _report_kwargs(settings: dict) -> dict:
    return {"c2st_kwargs": settings["c2st"], "kid_kwargs": settings["kid"],
            "memorisation_kwargs": settings["memorisation"]}


def _row(block: str, method: str, report: dict, seconds_per_image: float | None = None, fidelity=None) -> dict:
    row = {"block": block, "method": method, "size": report["size"], "n": report["n_generated"],
           "seconds_per_image": seconds_per_image,
           "psnr": None if fidelity is None else fidelity["psnr_pooled"],
           "ssim": None if fidelity is None else fidelity["ssim"]}
    row.update({k: report.get(k) for k in COLUMNS if k not in row and k not in ("block", "method")})
    return row


def load_images(path: str | Path) -> np.ndarray:
    """uint8 (N, H, W, 3) from an .npy of samples or a folder of PNGs."""
    path = Path(path)
    if path.suffix == ".npy":
        return np.load(path)
    from PIL import Image

    files = sorted(path.glob("*.png"))
    if not files:
        raise FileNotFoundError(f"{path}: no PNG samples")
    return np.stack([np.asarray(Image.open(f).convert("RGB")) for f in files])


def reference_tiles(data_dir: str | Path, splits, limit: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Real tiles of the given splits of ``data_dir`` together (the held-out reference generators are judged against,
    or with ("train",) the training tiles), at most ``limit`` of them: a seeded uniform draw over all of them, so a cap
    does not drop a whole split or, as the first ``limit`` in tile order would, keep only one end of the tree. Only
    the drawn tiles are read from the memory maps."""
    parts = [load_split(data_dir, s) for s in splits]
    sizes = [len(p.images) for p in parts]
    total = sum(sizes)
    keep = np.arange(total)
    if limit is not None and total > limit:
        keep = np.sort(np.random.default_rng(total).choice(total, limit, replace=False))
    images, masks, start = [], [], 0
    for part, n in zip(parts, sizes):
        rows = keep[(keep >= start) & (keep < start + n)] - start
        images.append(np.asarray(part.images[rows]))
        masks.append(np.asarray(part.masks[rows]))
        start += n
    return np.concatenate(images), np.concatenate(masks)


def _unless_too_few(measure, images: np.ndarray, name: str) -> dict:
    """The realism report, or an unmeasured row (logged) when the sets are too small for it."""
    try:
        report = measure()
    except TooFewImages as e:
        logger.warning("%s: realism not measured: %s", name, e)
        return {"size": int(images.shape[1]), "n_generated": len(images)}
    logger.info("%s: C2ST %.3f, KID %.2f, patch copy %s", name, report["c2st"], report["kid"],
                report.get("patch_copy_32"))
    return report


def generator_rows(rows: list[dict], settings: dict, seed: int) -> list[dict]:
    """rows: {name, data_dir, images (npy/PNG folder) or None for the real-vs-real floor, seconds_per_image, and
    optionally starts: the coarse samples the images were made from, for the layout figures}."""
    out, splits = [], {}
    for spec in rows:
        data_dir = spec["data_dir"]
        if data_dir not in splits:
            splits[data_dir] = (reference_tiles(data_dir, settings["heldout_splits"], settings["max_images"]),
                                reference_tiles(data_dir, ("train",), settings["max_images"]))
        (test, test_m), (train, train_m) = splits[data_dir]
        if spec["images"] is None:
            report = _unless_too_few(lambda: real_vs_real(train, test, train_masks=train_m, heldout_masks=test_m,
                                                          seed=seed, **_report_kwargs(settings)), test, spec["name"])
        else:
            images = load_images(spec["images"])[: settings["max_images"]]
            report = _unless_too_few(lambda: realism_report(images, test, train, heldout_masks=test_m,
                                                            train_masks=train_m, seed=seed,
                                                            **_report_kwargs(settings)), images, spec["name"])
            if spec.get("starts"):
                layout = layout_summary(images, load_images(spec["starts"])[: len(images)])
                report.update(layout_db=layout["mean_db"], layout_min_db=layout["min_db"])
        out.append(_row(GENERATORS, spec["name"], report, spec.get("seconds_per_image")))
    return out


def upscaler_rows(rows: list[dict], settings: dict, seed: int, device: str) -> list[dict]:
    """rows: benchmark row specs (rockzoom.generation.benchmark) with scale > 1 and no AE step."""
    out, train_tiles = [], {}
    for spec in rows:
        test = load_split(spec["data_dir"], "test")
        pairs = make_pairs(test, spec["scale"], limit=settings["max_images"])
        chain = build_chain(spec, device)
        t0 = time.perf_counter()
        preds, _, _ = run_upscaler(chain, pairs)
        per_image = (time.perf_counter() - t0) / len(pairs)
        preds = np.rint(np.clip(preds, 0.0, 1.0) * 255.0).astype(np.uint8)  # as a PNG would store them
        fidelity = evaluate(preds, pairs.hr, pairs.hr_mask, border=spec["scale"], seed=seed)
        if spec["data_dir"] not in train_tiles:  # the upscaler rows share one data dir: read its tiles once
            train_tiles[spec["data_dir"]] = reference_tiles(spec["data_dir"], ("train",), settings["max_images"])
        train_images, train_masks = train_tiles[spec["data_dir"]]
        report = _unless_too_few(lambda: realism_report(preds, pairs.hr, train_images, generated_masks=pairs.hr_mask,
                                                        heldout_masks=pairs.hr_mask, train_masks=train_masks,
                                                        seed=seed, **_report_kwargs(settings)), preds, spec["name"])
        out.append(_row(UPSCALERS, f"{spec['name']} x{spec['scale']}", report, per_image, fidelity))
    return out


def format_markdown(table: pd.DataFrame) -> str:
    def f(v, d=2):
        return "–" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.{d}f}"

    lines = []
    for block in (GENERATORS, UPSCALERS):
        part = table[table["block"] == block]
        if part.empty:
            continue
        layout = ("; layout = PSNR of the 1/8 view against the AE sample each result started from"
                  if block == GENERATORS else "")
        lines += [f"**{block.capitalize()}** ({BLOCK_NOTES[block]}; C2ST 0.5 = indistinguishable, with its 95% CI; "
                  "KID x1e3 mean ± spread over random-CNN seeds; patch copy = share of generated patches closer to a "
                  f"training patch than 95% of held-out real patches are{layout})", "",
                  "| method | size | n | C2ST [95% CI] | KID ×1e3 | SWD | SWD (real-normalised) | spectrum dist. (dB) "
                  "| HF ratio | patch copy 32 / 64 | C_T 32 | layout dB mean / min | PSNR | SSIM | s/image |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for _, r in part.iterrows():
            lines.append(
                f"| {r['method']} | {r['size']} | {r['n']} | {f(r['c2st'], 3)} [{f(r['c2st_ci_low'])}, "
                f"{f(r['c2st_ci_high'])}] | {f(r['kid'])} ± {f(r['kid_std'])} | {f(r['swd_own'], 1)} "
                f"| {f(r['swd_ref'], 1)} | {f(r['spectrum_distance_db'])} | {f(r['hf_energy_ratio'])} "
                f"| {f(r['patch_copy_32'], 3)} / {f(r['patch_copy_64'], 3)} | {f(r['ct_32'])} "
                f"| {f(r['layout_db'], 1)} / {f(r['layout_min_db'], 1)} | {f(r['psnr'])} "
                f"| {f(r['ssim'], 3)} | {f(r['seconds_per_image'])} |")
        lines.append("")
    return "\n".join(lines)


def plot_perception_distortion(table: pd.DataFrame, path: str | Path) -> None:
    """PSNR (distortion) against C2ST accuracy (perception), one point per upscaler; lower-right is better."""
    part = table[(table["block"] == UPSCALERS) & table["psnr"].notna()]
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for i, (_, r) in enumerate(part.sort_values("psnr").iterrows()):
        ax.errorbar(r["psnr"], r["c2st"], yerr=[[r["c2st"] - r["c2st_ci_low"]], [r["c2st_ci_high"] - r["c2st"]]],
                    fmt="o", capsize=3)
        ax.annotate(r["method"], (r["psnr"], r["c2st"]), fontsize=7, xytext=(5, -14 if i % 2 else 6),
                    textcoords="offset points")
    if len(part):
        lo, hi = part["psnr"].min(), part["psnr"].max()
        pad = max(0.1, hi - lo) * 0.2
        ax.set_xlim(lo - pad, hi + 2 * pad)  # room for the labels on the right
    floor = table[(table["block"] == GENERATORS) & table["method"].str.startswith("real vs real")
                  & table["size"].isin(part["size"])]  # the floor of the upscalers' own output size
    for _, r in floor.iterrows():
        ax.axhline(r["c2st"], color="k", lw=0.8, ls="--", label=r["method"])
    ax.axhline(0.5, color="grey", lw=0.6)
    ax.set_xlabel("PSNR (dB, higher = less distortion)")
    ax.set_ylabel("C2ST accuracy (0.5 = indistinguishable from real)")
    ax.set_ylim(0.35, 1.02)
    if len(floor):
        ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run_realism_table(generators: list[dict], upscalers: list[dict], *, table_csv: str | Path,
                      table_md: str | Path, plot_png: str | Path, settings: dict, seed: int = 0,
                      device: str = "auto") -> pd.DataFrame:
    rows = generator_rows(generators, settings, seed) + upscaler_rows(upscalers, settings, seed, device)
    table = pd.DataFrame(rows, columns=COLUMNS)
    for p in (table_csv, table_md, plot_png):
        Path(p).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(table_csv, index=False, float_format="%.4f")
    Path(table_md).write_text(format_markdown(table))
    plot_perception_distortion(table, plot_png)
    return table


def option_realism(generated: np.ndarray, real_dir: str | Path, out_dir: str | Path, *, scale: int, seed: int,
                   settings: dict) -> dict:
    """A generated option's realism figures against real tiles of its output size, and its real-or-generated sheet
    (``real_or_generated.png``, key in ``real_or_generated_key.csv``)."""
    train_images, train_masks = reference_tiles(real_dir, ("train",), settings["max_images"])
    test_images, test_masks = reference_tiles(real_dir, settings["heldout_splits"], settings["max_images"])
    result = {"real_reference": f"{real_dir}: {len(test_images)} held-out ({'+'.join(settings['heldout_splits'])}) "
                                f"and {len(train_images)} training images"}
    if scale > 1:
        result["note"] = CROSS_SCALE_NOTE
    n_sheet = min(settings["sheet_n"], len(test_images), len(generated))
    if n_sheet >= 1:
        real_or_generated_sheet(test_images, generated, Path(out_dir) / "real_or_generated.png",
                                Path(out_dir) / "real_or_generated_key.csv", n=n_sheet, seed=seed)
    if len(test_images) < settings["min_images"] or len(generated) < settings["min_images"] or len(train_images) < 1:
        result["measured"] = False
        result["why"] = (f"needs at least {settings['min_images']} generated and held-out real images and one "
                         f"training image; has {len(generated)}, {len(test_images)} and {len(train_images)}")
        return result
    try:
        result.update(realism_report(generated, test_images, train_images, heldout_masks=test_masks,
                                     train_masks=train_masks, seed=seed, **_report_kwargs(settings)))
    except TooFewImages as e:
        logger.warning("realism not measured: %s", e)
        result.update(measured=False, why=str(e))
        return result
    result["measured"] = True
    return result
