"""Realism where the user sees it: the benchmark's realism table, and each generated option's judges and blind
side-by-side sheet.

The table judges every row with both judge families (``rockzoom.metrics.judges``, through ``judging.Ground``) as
256 px tiles at the tree's pixel size, in four blocks: the *floors* (real against real), the *power checks* (real
tiles damaged in ways a person spots: a family that misses any of them is left out of the headline), the
*generators* (against the training ground and against the held-out ground) and the *upscalers* (scale analogy: the
held-out tiles box-averaged x k and upscaled, against the same tiles). Beside the judges, the measures of the first
table stay: KID, SWD, spectrum, patch copy and C_T against real held-out images of the row's own size, the layout
figure of detail rows, and PSNR/SSIM where a ground truth exists.
"""
from __future__ import annotations

import json
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
from rockzoom.generation.judging import (  # noqa: E402
    GROUND_SIZE,
    REFERENCES,
    Ground,
    as_ground_tiles,
    flat_result,
    headline_columns,
    scale_analogy,
)
from rockzoom.metrics.judges import box_down, cut_tiles  # noqa: E402
from rockzoom.metrics.realism import TooFewImages, real_vs_real, realism_report  # noqa: E402
from rockzoom.superres.data import SRPairs  # noqa: E402
from rockzoom.superres.evaluate import run_upscaler  # noqa: E402
from rockzoom.texture.stage import layout_summary  # noqa: E402
from rockzoom.util.memory import release_mapped_pages  # noqa: E402

logger = logging.getLogger(__name__)

JUDGE_COLUMNS = [f"{ref}_{k}" for ref in REFERENCES for k in (
    "max", "max_ci_low", "max_ci_high", "max_by", "texture", "texture_ci_low", "texture_ci_high", "cnn", "cnn_ci_low",
    "cnn_ci_high", "cnn_full", "cnn_highpass", "cnn_coarse", "n_real", "n")]
COLUMNS = (["block", "method", "size", "n"] + JUDGE_COLUMNS
           + ["kid", "kid_std", "swd_own", "swd_ref", "spectrum_distance_db", "hf_energy_ratio", "patch_copy_32",
              "patch_copy_64", "ct_32", "layout_db", "layout_min_db", "psnr", "ssim", "seconds_per_image"])
FLOORS, CONTROLS = "floors", "power checks"
GENERATORS, UPSCALERS = "generators", "upscalers by scale analogy"
BLOCK_NOTES = {
    FLOORS: "real tiles against real tiles: where a perfect generator would score",
    CONTROLS: "real tiles damaged in ways a person spots at once, against the other half of the training ground: "
              "a judge family below the power threshold on any of them has no power and is left out of the max",
    GENERATORS: "samples as 256 px tiles (larger ones cut at their own pixel size) against the training ground and "
                "against the held-out ground",
    UPSCALERS: "the held-out tiles box-averaged x k and upscaled, against the same tiles (each tile in one fold with "
               "its own upscale); KID and SWD compare each output with its own source",
}
CROSS_SCALE_NOTE = ("output finer than the survey's resolution: judged as 256 px cuts at its own pixel size against "
                    "the real tiles (scale analogy: this assumes the ground looks alike across scales) and, "
                    "box-averaged to the tree's pixel size, against the same real tiles")


def _report_kwargs(settings: dict) -> dict:
    return {"kid_kwargs": settings["kid"], "memorisation_kwargs": settings["memorisation"]}


def _row(block: str, method: str, report: dict, seconds_per_image: float | None = None, fidelity=None,
         judged: dict | None = None) -> dict:
    row = {"block": block, "method": method, "size": report["size"], "n": report["n_generated"],
           "seconds_per_image": seconds_per_image,
           "psnr": None if fidelity is None else fidelity["psnr_pooled"],
           "ssim": None if fidelity is None else fidelity["ssim"]}
    row.update(judged or {})
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
    first = parts[0]
    images = np.empty((len(keep), *first.images.shape[1:]), first.images.dtype)
    masks = np.empty((len(keep), *first.masks.shape[1:]), first.masks.dtype)
    out, start = 0, 0
    for part, n in zip(parts, sizes):
        for row in keep[(keep >= start) & (keep < start + n)] - start:  # one tile at a time: no second copy
            images[out], masks[out] = part.images[row], part.masks[row]
            out += 1
            if out % 16 == 0:
                release_mapped_pages(part.images, part.masks)
        release_mapped_pages(part.images, part.masks)
        start += n
    return images, masks


def _unless_too_few(measure, images: np.ndarray, name: str) -> dict:
    """The realism report, or an unmeasured row (logged) when the sets are too small for it."""
    try:
        report = measure()
    except TooFewImages as e:
        logger.warning("%s: realism not measured: %s", name, e)
        return {"size": int(images.shape[1]), "n_generated": len(images)}
    logger.info("%s: KID %.2f, patch copy %s", name, report["kid"], report.get("patch_copy_32"))
    return report


def judged_columns(ground: Ground, images: np.ndarray, name: str) -> dict:
    if images.shape[1] % GROUND_SIZE or images.shape[2] % GROUND_SIZE:
        logger.warning("%s: %s px images are not whole %d px tiles: not judged", name, images.shape[1:3], GROUND_SIZE)
        return {}
    return ground.columns(images)


def floor_and_control_rows(ground: Ground) -> list[dict]:
    """The floors and the power checks of this run (``Ground.check_power`` has run)."""
    rows = []
    n_half = len(ground.train) // 2
    for name, result in ground.floors.items():
        rows.append({"block": FLOORS, "method": f"real: {name}", "size": GROUND_SIZE, "n": result["texture" if
                     "texture" in result else "cnn"]["n_fake"], **flat_result(result, ground.powered, "train")})
    for name, result in ground.controls.items():
        rows.append({"block": CONTROLS, "method": f"control: {CONTROL_NAMES[name]}", "size": GROUND_SIZE,
                     "n": min(n_half, ground.settings["judges"]["control_images"]),
                     **flat_result(result, ground.powered, "train")})
    return rows


CONTROL_NAMES = {"block_shuffle": "16 px blocks of other tiles", "blur": "x4 box-averaged, Lanczos back",
                 "seam_quilt": "32 px blocks of other tiles quilted along seams",
                 "misplaced_detail": "x4 coarse look of the tile, fine detail of another"}


def generator_rows(rows: list[dict], ground: Ground, settings: dict, seed: int) -> list[dict]:
    """rows: {name, data_dir, images (npy/PNG folder) or None for the real-vs-real floor of that size's KID and copy
    measures, seconds_per_image, and optionally starts: the coarse samples the images were made from, for the
    layout figures}."""
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
            out.append(_row(FLOORS, spec["name"], report))
            continue
        images = load_images(spec["images"])[: settings["max_images"]]
        # scenes larger than the real tiles: the KID and copy measures on their cuts at the tiles' size
        measured = cut_tiles(images, spec["cut"])[0] if spec.get("cut") and images.shape[1] > spec["cut"] else images
        report = _unless_too_few(lambda: realism_report(measured, test, train, heldout_masks=test_m,
                                                        train_masks=train_m, seed=seed, **_report_kwargs(settings)),
                                 measured, spec["name"])
        if spec.get("starts"):
            layout = layout_summary(images, load_images(spec["starts"])[: len(images)])
            report.update(layout_db=layout["mean_db"], layout_min_db=layout["min_db"])
        out.append(_row(GENERATORS, spec["name"], report, spec.get("seconds_per_image"),
                        judged=judged_columns(ground, images, spec["name"])))
    return out


def upscaler_rows(rows: list[dict], ground: Ground, settings: dict, seed: int, device: str) -> list[dict]:
    """rows: benchmark row specs (rockzoom.generation.benchmark) with scale > 1 and no AE step, judged by scale
    analogy on the ground's held-out tiles (``judging.scale_analogy``)."""
    out = []
    hr = ground.heldout[: settings["max_images"]]
    for spec in rows:
        chain = build_chain(spec, device)
        timing = {}

        def upscale(lr: np.ndarray) -> np.ndarray:
            pairs = SRPairs(hr=hr, hr_mask=np.ones(hr.shape[:3], bool), lr=lr, scale=spec["scale"])
            t0 = time.perf_counter()
            preds, _, _ = run_upscaler(chain, pairs)
            timing["per_image"] = (time.perf_counter() - t0) / len(pairs)
            return np.rint(np.clip(preds, 0.0, 1.0) * 255.0).astype(np.uint8)  # as a PNG would store them

        judged, preds = scale_analogy(hr, upscale, spec["scale"], settings, ground.powered)
        fidelity = evaluate(preds, hr, np.ones(hr.shape[:3], bool), border=spec["scale"], seed=seed)
        report = _unless_too_few(lambda: realism_report(preds, hr, ground.train, seed=seed,
                                                        **_report_kwargs(settings)), preds, spec["name"])
        out.append(_row(UPSCALERS, f"{spec['name']} x{spec['scale']}", report, timing["per_image"], fidelity,
                        judged=judged))
    return out


def _f(v, d=2):
    missing = v is None or (isinstance(v, float) and np.isnan(v))
    return "–" if missing else (v if isinstance(v, str) else f"{v:.{d}f}")


def _judge_cell(r, ref: str, fam: str) -> str:
    score = r.get(f"{ref}_{fam}")
    if score is None or (isinstance(score, float) and np.isnan(score)):
        return "–"
    cell = f"{score:.3f} [{_f(r[f'{ref}_{fam}_ci_low'])}, {_f(r[f'{ref}_{fam}_ci_high'])}]"
    if fam == "cnn":
        cell += " (" + " / ".join(_f(r.get(f"{ref}_cnn_{v}"), 2) for v in ("full", "highpass", "coarse")) + ")"
    return cell


def _max_cell(r, ref: str) -> str:
    v = r.get(f"{ref}_max")
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "–" if r.get(f"{ref}_max_by") != "no power" else "no power"
    return (f"**{v:.3f}** [{_f(r[f'{ref}_max_ci_low'])}, {_f(r[f'{ref}_max_ci_high'])}] "
            f"({r[f'{ref}_max_by']})")


REFERENCE_NAMES = {"train": "training ground", "heldout": "held-out ground"}
MIN_JUDGED = 4  # candidate tiles a judge needs (rockzoom.metrics.judges)


def format_markdown(table: pd.DataFrame, powered: dict[str, bool] | None = None) -> str:
    """Two tables: the judges (every family, its views, and the max over the families with power, per reference),
    then the other measures."""
    lines = ["**Realism judges** (balanced image accuracy of a classifier telling the row from real tiles: 0.5 = "
             "indistinguishable, 1.0 = always told apart; 95% Clopper-Pearson interval on 2 x the smaller set; "
             "CNN: the max over its views full / high-pass / coarse; **max** = the headline, the max over the "
             "families with power)"]
    if powered:
        lines.append("Power this run: " + ", ".join(f"{fam} {'has power' if ok else '**NO POWER** (left out of max)'}"
                                                     for fam, ok in powered.items()))
    lines += ["", "| block | method | n | reference | texture statistics | CNN (full / high-pass / coarse) | **max** |",
              "|---|---|---|---|---|---|---|"]
    for _, r in table.iterrows():
        for ref in REFERENCES:
            if pd.isna(r.get(f"{ref}_n")) if f"{ref}_n" in r else True:
                continue
            lines.append(f"| {r['block']} | {r['method']} | {int(r[f'{ref}_n'])} vs {int(r[f'{ref}_n_real'])} "
                         f"| {REFERENCE_NAMES[ref] if r['block'] != UPSCALERS else 'the same held-out tiles'} "
                         f"| {_judge_cell(r, ref, 'texture')} | {_judge_cell(r, ref, 'cnn')} | {_max_cell(r, ref)} |")
    lines += ["", "Blocks: " + "; ".join(f"*{b}*: {note}" for b, note in BLOCK_NOTES.items()), "",
              "**Other measures** (against the held-out tiles of the row's size; KID x1e3 on random-CNN features; "
              "patch copy = share of generated patches closer to a training patch than 95% of held-out real "
              "patches are; layout = PSNR of the 1/8 view against the AE sample each result started from)", "",
              "| method | size | n | KID ×1e3 | SWD | SWD (real-normalised) | spectrum dist. (dB) | HF ratio "
              "| patch copy 32 / 64 | C_T 32 | layout dB mean / min | PSNR | SSIM | s/image |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for _, r in table[table["block"].isin([FLOORS, GENERATORS, UPSCALERS]) & table["kid"].notna()].iterrows():
        lines.append(
            f"| {r['method']} | {r['size']} | {r['n']} | {_f(r['kid'])} ± {_f(r['kid_std'])} | {_f(r['swd_own'], 1)} "
            f"| {_f(r['swd_ref'], 1)} | {_f(r['spectrum_distance_db'])} | {_f(r['hf_energy_ratio'])} "
            f"| {_f(r['patch_copy_32'], 3)} / {_f(r['patch_copy_64'], 3)} | {_f(r['ct_32'])} "
            f"| {_f(r['layout_db'], 1)} / {_f(r['layout_min_db'], 1)} | {_f(r['psnr'])} "
            f"| {_f(r['ssim'], 3)} | {_f(r['seconds_per_image'])} |")
    lines.append("")
    return "\n".join(lines)


def plot_perception_distortion(table: pd.DataFrame, path: str | Path) -> None:
    """PSNR (distortion) against the judges' headline (perception), one point per upscaler; lower-right is better."""
    part = table[(table["block"] == UPSCALERS) & table["psnr"].notna()]
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for i, (_, r) in enumerate(part.sort_values("psnr").iterrows()):
        y, lo, hi = r["heldout_max"], r["heldout_max_ci_low"], r["heldout_max_ci_high"]
        if pd.isna(y):
            continue
        ax.errorbar(r["psnr"], y, yerr=[[y - lo], [hi - y]], fmt="o", capsize=3)
        ax.annotate(r["method"], (r["psnr"], y), fontsize=7, xytext=(5, (6, -14, -28)[i % 3]),
                    textcoords="offset points")  # three label heights: neighbours in PSNR do not overprint
    if len(part):
        lo, hi = part["psnr"].min(), part["psnr"].max()
        pad = max(0.1, hi - lo) * 0.2
        ax.set_xlim(lo - pad, hi + 2 * pad)  # room for the labels on the right
    floor = table[(table["block"] == FLOORS) & table["train_max"].notna()]
    for j, (_, r) in enumerate(floor.iterrows()):
        ax.axhline(r["train_max"], color="k", lw=0.8, ls=("--", ":", "-.")[j % 3], label=r["method"])
    ax.axhline(0.5, color="grey", lw=0.6)
    ax.set_xlabel("PSNR (dB, higher = less distortion)")
    ax.set_ylabel("judges' max accuracy (0.5 = indistinguishable from real)")
    ax.set_ylim(0.35, 1.02)
    if len(floor):
        ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


PARTS = ("ground", "generators", "upscalers")  # the table's parts, each a job of its own in the workflow


def ground_part(ground_dir: str | Path, settings: dict, seed: int = 0) -> tuple[pd.DataFrame, dict[str, bool]]:
    """The floors and the power checks -> (their rows, which families have power)."""
    ground = Ground.load(ground_dir, settings, seed)
    ground.check_power()
    return pd.DataFrame(floor_and_control_rows(ground), columns=COLUMNS), ground.powered


def candidates_part(part: str, rows: list[dict], ground_dir: str | Path, settings: dict, seed: int = 0,
                    device: str = "auto") -> pd.DataFrame:
    """The generator or upscaler rows (``part``), judged without the power checks: their headline columns come
    with the table (``assemble_table``), so they need not wait for the checks."""
    ground = Ground.load(ground_dir, settings, seed)
    if part == "generators":
        out = generator_rows(rows, ground, settings, seed)
    elif part == "upscalers":
        out = upscaler_rows(rows, ground, settings, seed, device)
    else:
        raise ValueError(f"realism table part {part!r}: expected 'generators' or 'upscalers'")
    return pd.DataFrame(out, columns=COLUMNS)


def assemble_table(parts: list[pd.DataFrame], powered: dict[str, bool]) -> pd.DataFrame:
    """The parts in order, each judged row's headline (the max over the families with power) set from ``powered``."""
    records = [r for part in parts for r in part.to_dict("records")]
    for r in records:
        for ref in REFERENCES:
            r.update(headline_columns(r, powered, ref))
    return pd.DataFrame(records, columns=COLUMNS)


def write_part(part: pd.DataFrame, path: str | Path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    part.to_csv(path, index=False)  # full precision: the table rounds once, when it is written


def read_part(path: str | Path) -> pd.DataFrame:
    return pd.read_csv(path)


def write_table(table: pd.DataFrame, powered: dict[str, bool], *, table_csv: str | Path, table_md: str | Path,
                plot_png: str | Path) -> None:
    for p in (table_csv, table_md, plot_png):
        Path(p).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(table_csv, index=False, float_format="%.4f")
    Path(table_md).write_text(format_markdown(table, powered))
    plot_perception_distortion(table, plot_png)


def run_realism_part(part: str, rows: list[dict], *, ground_dir: str | Path, rows_csv: str | Path,
                     power_json: str | Path | None = None, settings: dict, seed: int = 0, device: str = "auto") -> None:
    """One part of the table as a job (``PARTS``): its rows to ``rows_csv``; the ground part also writes which
    families have power to ``power_json``."""
    t0 = time.perf_counter()
    if part == "ground":
        if power_json is None:
            raise ValueError("the realism table's ground part writes the power checks: give power_json")
        table, powered = ground_part(ground_dir, settings, seed)
        Path(power_json).parent.mkdir(parents=True, exist_ok=True)
        Path(power_json).write_text(json.dumps({"powered": powered}, indent=1))
    else:
        table = candidates_part(part, rows, ground_dir, settings, seed, device)
    write_part(table, rows_csv)
    logger.info("realism table, %s: %d rows in %.1f min", part, len(table), (time.perf_counter() - t0) / 60)


def realism_table_from_parts(part_csvs: list[str | Path], power_json: str | Path, *, table_csv: str | Path,
                             table_md: str | Path, plot_png: str | Path) -> pd.DataFrame:
    """The table put together from its parts' files (in order) and the ground part's power checks."""
    powered = json.loads(Path(power_json).read_text())["powered"]
    table = assemble_table([read_part(p) for p in part_csvs], powered)
    write_table(table, powered, table_csv=table_csv, table_md=table_md, plot_png=plot_png)
    logger.info("realism table: %d rows from %d parts", len(table), len(part_csvs))
    return table


def option_realism(generated: np.ndarray, ground_dir: str | Path, out_dir: str | Path, *, scale: int, seed: int,
                   settings: dict, real_dir: str | Path | None = None) -> dict:
    """A generated option's judges (the realism table's, without its power checks: read those in the table) and its
    blind side-by-side sheet, against the ``ground_dir`` 256 px tiles; the KID and copy measures against real
    images of the option's own size in ``real_dir`` where the tree has them."""
    from rockzoom.generation.blind_test import write_sheet

    result = {"judged_as": f"{GROUND_SIZE} px tiles"}
    try:
        ground = Ground.load(ground_dir, settings, seed)
    except TooFewImages as e:
        logger.warning("realism not measured: %s", e)
        return {"measured": False, "why": str(e)}
    result["real_reference"] = (f"{ground_dir}: {len(ground.heldout)} held-out "
                                f"({'+'.join(settings['heldout_splits'])}) and {len(ground.train)} training tiles")
    ground.powered = {fam: True for fam in settings["judges"]["families"]}  # the table's power checks judge them
    size = generated.shape[1]
    if size % GROUND_SIZE or (scale > 1 and (size // scale) % GROUND_SIZE):
        return {"measured": False, "why": f"{size} px outputs (x{scale}) do not cut into whole {GROUND_SIZE} px tiles "
                                          "at their own and at the tree's pixel size: the judges compare 256 px tiles"}
    tiles, _ = as_ground_tiles(generated)
    least = max(MIN_JUDGED, settings["min_images"])

    def judged(images: np.ndarray) -> dict:
        if len(images) < least:  # cuts of one sample stay in one fold: the judges count samples
            return {"measured": False, "why": f"{len(images)} samples; the judges need at least {least}"}
        return ground.columns(images)

    if scale > 1:
        result["note"] = CROSS_SCALE_NOTE
        result["own_pixel_size"] = judged(generated)
        result["tree_pixel_size"] = judged(box_down(generated, scale))
    else:
        view = judged(generated)
        if view.get("measured") is False:
            return view
        result.update(view)
    n_sheet = min(settings["sheet_n"], len(ground.heldout), len(tiles))
    if n_sheet >= 1:
        write_sheet(ground.heldout, tiles, out_dir, n=n_sheet, seed=seed)
    del ground, tiles  # the judges' sets and features: freed before the larger own-size reference is read
    if real_dir is not None:
        train_images, train_masks = reference_tiles(real_dir, ("train",), settings["max_images"])
        test_images, test_masks = reference_tiles(real_dir, settings["heldout_splits"], settings["max_images"])
        if min(len(test_images), len(generated)) >= settings["min_images"] and len(train_images):
            try:
                result.update(realism_report(generated, test_images, train_images, heldout_masks=test_masks,
                                             train_masks=train_masks, seed=seed, **_report_kwargs(settings)))
            except TooFewImages as e:
                logger.warning("KID and copy measures not measured: %s", e)
    result["measured"] = True
    return result
