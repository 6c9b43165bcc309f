"""Perception-distortion curves of the x4 upscalers on real tiles, judged by scale analogy.

Reference: the real held-out tiles (``--splits``, val + test of ``--data-dir`` by default, complete tiles only; choose
settings on ``--splits val`` and report them on ``--splits test``). Candidates: the same tiles
box-averaged x4 (what the tree's coarser zoom holds) and upscaled x4 by each upscaler, so every candidate has a real
twin; a tile and its upscale share a group (one fold of the judge). Each row reports PSNR to the real tile (pooled,
with the bootstrap 95% interval of the per-tile mean), the LR consistency (PSNR of the output box-averaged x4
against its input), the judges of ``rockzoom.metrics.judges`` (each family's balanced accuracy with its 95%
Clopper-Pearson interval; chance 0.5), the placement gap (``rockzoom.metrics.judges.coupling_gap``: how the finest
detail lines up with the coarser edges, against each tile's real twin; negative = detail drawn across the stones,
which neither judge family has power to see) and the upscaling time per tile.

Rows: bicubic, Lanczos, the PSNR net, and for every ``--models LABEL=CKPT`` (a perceptual or GAN fine-tune of the
PSNR net: its kept ``model.pt``, or its last step's weights, ``<model>.state/state.pt``) the network interpolation
``(1 - a) * PSNR + a * fine-tune`` at each ``--alphas`` value (ESRGAN's perception-distortion dial; a = 1 is the
fine-tune itself), and for every ``--exemplars LABEL=CKPT`` (the PSNR net
with exemplar detail, ``rockzoom.superres.exemplar``) one row per ``--gains`` value (its dial, plotted as alpha; its
own back-projection setting applies); for every ``--refiners LABEL=CKPT`` (the diffusion refiner,
``rockzoom.refiner``, after the PSNR net, which must be its condition) one row per ``--refine-steps`` value (DDIM
steps: its dial, plotted as alpha; the refiner's own sampling settings, seed 0); ``--back-project`` adds every row again with exact LR
consistency (``rockzoom.superres.back_projection``). Writes ``curve.csv`` and ``curve.png`` to ``--out``. With the
PSNR net's row it also logs the distortion floor at real statistics (``log_distortion_floor``): the Gaussian estimate
of the best PSNR any upscaler whose outputs are distributed like the real tiles can reach.

``--cuts LABEL=GLOB`` judges generated images (e.g. ``results/generated/option_a/samples/*.png``, 1024 px) by
their 256 px cuts at their own pixel size, every cut of one image in one group, against the same reference;
``--cuts-per-draw K`` judges disjoint draws of K images one by one (a workflow run's sample count) and prints their
mean and spread, so a score is read against what another draw of the same generator scores.

``--controls NAME ...`` scores positive controls (``rockzoom.metrics.controls``, made from the reference tiles) as
rows of the same run, so each family's power against that defect is printed beside the upscalers (e.g.
``misplaced_detail``: real detail of another tile over a tile's coarse look); ``--texture-coupling`` adds the
cross-scale coupling statistics to the texture family (``rockzoom.metrics.judges._coupling_stats``).

``--sheet-row ROW`` writes a blind side-by-side sheet of that row's outputs beside real held-out tiles (16 pairs,
the key in a separate file) for a person to take before reading the key (``rockzoom score-sheet``).

``--figure PNG`` also draws a zoom-``z`` tile of ``--tiles`` beside its zoom z+2 children from the PSNR net, the
first ``--models`` entry and each ``--exemplars`` entry (first ``--gains`` value, ``--set``), 16 px of neighbour context
as ``snakemake pyramid`` upscales, for the README.

    .venv/bin/python benchmarks/bench_perceptual.py --data-dir /work/scratch/real/results/data/s256 \\
        --psnr-model .../results/sr/rlfn-x4-h256/model.pt --models perceptual=.../results/sr_perceptual/rlfn-x4-h256/model.pt \\
        --alphas 0.25 0.5 0.75 1 --back-project --families texture cnn --out /tmp/curve
"""
from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import logging
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

log = logging.getLogger("bench_perceptual")


def heldout_tiles(data_dir: Path, splits=("val", "test")) -> np.ndarray:
    """The complete tiles of ``splits`` (uint8 (N, S, S, 3))."""
    from rockzoom.data.store import load_split

    tiles = []
    for split in splits:
        arrays = load_split(data_dir, split)
        complete = np.asarray(arrays.masks).all(axis=(1, 2))
        tiles.append(np.asarray(arrays.images)[complete])
    return np.concatenate(tiles)


def interpolated(psnr_ckpt: Path, other_ckpt: Path, alpha: float, name: str):
    """A NetUpscaler whose weights are (1 - alpha) * PSNR + alpha * other (same architecture)."""
    import torch

    from rockzoom.superres.upscale import NetUpscaler
    from rockzoom.util.checkpoint import load_checkpoint

    base, other = NetUpscaler.from_checkpoint(psnr_ckpt, device="cpu"), load_checkpoint(other_ckpt)
    state = base.model.state_dict()
    # a fine-tune's kept model (model.pt) or its last step's weights (its .state/state.pt: EMA if kept, else live)
    weights = other["state_dict"] if "state_dict" in other else (other.get("ema") or other["model"])
    if set(state) != set(weights):
        raise ValueError(f"{other_ckpt}: not the PSNR net's architecture")
    mixed = {k: torch.lerp(v.float(), weights[k].float(), alpha) if v.dtype.is_floating_point else v
             for k, v in state.items()}
    model = copy.deepcopy(base.model)
    model.load_state_dict(mixed)
    return NetUpscaler(model, base.scale, name=name, device="cpu")


def refined_psnr_net(psnr_ckpt: Path, refiner_ckpt: Path, steps: int):
    """The PSNR net followed by the diffusion refiner at ``steps`` DDIM steps (its checkpoint's sampling defaults,
    seed 0). The refiner must have been trained after this net: its training condition is checked by hash."""
    from rockzoom.refiner.inference import RefinedUpscaler, Refiner
    from rockzoom.refiner.train import sr_condition_tag
    from rockzoom.superres.upscale import build_upscaler
    from rockzoom.util.checkpoint import load_checkpoint

    payload = load_checkpoint(refiner_ckpt)
    data_hash = payload.get("data_hash", "")
    if not data_hash.endswith(sr_condition_tag(psnr_ckpt)):
        raise ValueError(f"{refiner_ckpt}: not trained after {psnr_ckpt} (its data hash: {data_hash!r})")
    return RefinedUpscaler(build_upscaler(checkpoint=psnr_ckpt, device="cpu"),
                           Refiner.from_payload(payload, refiner_ckpt, steps=steps, device="cpu"))


def upscale_all(upscaler, lr: np.ndarray, batch: int = 8) -> tuple[np.ndarray, float]:
    """uint8 upscales of uint8 LR tiles and the seconds per tile (after a warm-up call)."""
    upscaler.upscale(lr[0].astype(np.float32) / 255.0)
    out, t0 = [], time.perf_counter()
    for i in range(0, len(lr), batch):
        out += upscaler.upscale_batch(list(lr[i:i + batch].astype(np.float32) / 255.0))
    seconds = (time.perf_counter() - t0) / len(lr)
    return np.rint(np.clip(np.stack(out), 0, 1) * 255).astype(np.uint8), seconds


def judge_columns(result: dict) -> dict:
    """A judge result as row columns: each family's score and interval, and the max over families."""
    columns = {}
    for fam, r in result.items():
        columns.update({fam: r["score"], f"{fam}_ci_low": r["ci_low"], f"{fam}_ci_high": r["ci_high"]})
    columns["judge_max"] = max(r["score"] for r in result.values())
    return columns


def judge_summary(result: dict) -> str:
    return ", ".join(f"{f} {r['score']:.3f} [{r['ci_low']:.2f}, {r['ci_high']:.2f}]" for f, r in result.items())


def score_row(name: str, out: np.ndarray, ref: np.ndarray, lr: np.ndarray, judge, groups, seconds: float,
              lr_blur: float = 0.0, **extra) -> dict:
    from rockzoom.metrics.fidelity import evaluate, psnr_from_mse
    from rockzoom.metrics.grid import grid_ratio
    from rockzoom.metrics.judges import box_down, coupling_gap
    from rockzoom.superres.degradation import blur_lr

    fid = evaluate(out, ref, with_ssim=False)
    back = blur_lr(box_down(out, 4).astype(np.float32), lr_blur).astype(np.float64)
    row = {"method": name, **extra, "n": len(ref), "psnr": fid["psnr_pooled"], "psnr_ci_low": fid["psnr_ci_low"],
           "psnr_ci_high": fid["psnr_ci_high"],
           "lr_psnr": psnr_from_mse(float(((back - lr.astype(np.float64)) ** 2).mean())),
           "ms_per_tile": 1000 * seconds}
    result = judge.score(out, candidate_groups=groups)
    row.update(judge_columns(result))
    if "cnn" in result:
        row["cnn_view"] = result["cnn"]["view"]
    gap = coupling_gap(out, ref)
    row.update(placement_gap=gap["gap"], placement_gap_ci_low=gap["ci_low"], placement_gap_ci_high=gap["ci_high"],
               grid_ratio=grid_ratio(out, 4))
    log.info(f"{name}: PSNR {row['psnr']:.2f} dB, LR {row['lr_psnr']:.1f} dB, "
             + judge_summary(result)
             + f", placement gap {gap['gap']:+.3f} [{gap['ci_low']:+.3f}, {gap['ci_high']:+.3f}] "
             + f"(below the twin {gap['lower']:.0%}), grid ratio {row['grid_ratio']:.2f}, "
             + f"{row['ms_per_tile']:.0f} ms/tile")
    return row


def log_distortion_floor(psnr_out: np.ndarray, ref: np.ndarray) -> float:
    """Log (and return, dB) the Gaussian estimate of the best PSNR an upscaler whose outputs are distributed like the
    real tiles can reach: the PSNR net's MSE (standing in for the MMSE) plus the stationary W2² between its outputs
    and the real tiles (``rockzoom.metrics.spectrum.stationary_w2``). Perfect realism costs at least this much."""
    from rockzoom.metrics.spectrum import stationary_w2

    mse = float(((psnr_out.astype(np.float64) - ref) ** 2).mean())
    w2 = stationary_w2(psnr_out, ref)
    floor = 10 * np.log10(255.0**2 / (mse + w2)) if mse + w2 > 0 else float("inf")
    log.info(f"distortion floor at real statistics (Gaussian estimate): PSNR net MSE {mse:.1f} + W2² {w2:.1f} -> "
             f"{floor:.2f} dB")
    return floor


def cut_draws(files: list[str], per_draw: int | None) -> list[list[str]]:
    """The images of one ``--cuts`` label as the draws judged one by one: all of them (``per_draw`` None), or disjoint
    runs of ``per_draw`` in sorted order (a last, shorter run is left out and logged)."""
    if per_draw is None:
        return [files]
    if per_draw < 1:
        raise ValueError(f"--cuts-per-draw must be >= 1, got {per_draw}")
    if len(files) < per_draw:
        raise ValueError(f"--cuts-per-draw {per_draw}: only {len(files)} images")
    if len(files) % per_draw:
        log.warning(f"--cuts-per-draw {per_draw}: the last {len(files) % per_draw} of {len(files)} images are left out")
    return [files[i:i + per_draw] for i in range(0, len(files) - per_draw + 1, per_draw)]


def draws_summary(rows: list[dict], families: list[str]) -> dict:
    """Mean, sample SD and range over the draws of each family's score and of the max over families."""
    summary = {"draw": "mean", "draws": len(rows)}
    for col in [*families, "judge_max"]:
        v = np.array([r[col] for r in rows], float)
        summary.update({col: v.mean(), f"{col}_sd": v.std(ddof=1) if len(v) > 1 else float("nan"),
                        f"{col}_min": v.min(), f"{col}_max": v.max()})
    return summary


def judge_cuts(globs: dict[str, str], ref: np.ndarray, judge, out_csv: Path, per_draw: int | None = None) -> None:
    """Each label's images cut into reference-sized tiles (one group per image) and judged; with ``per_draw``, each
    disjoint draw of that many images judged on its own (as a run of that many samples is), then their mean."""
    import glob

    import pandas as pd
    from PIL import Image

    from rockzoom.metrics.grid import grid_ratio
    from rockzoom.metrics.judges import cut_tiles
    from rockzoom.superres.degradation import finest_band_ratio

    rows, real_ratio = [], finest_band_ratio(ref)
    for label, pattern in globs.items():
        files = sorted(glob.glob(pattern))
        if not files:
            raise FileNotFoundError(f"--cuts {label}: no file matches {pattern}")
        draws = cut_draws(files, per_draw)
        label_rows = []
        for d, draw in enumerate(draws):
            images = np.stack([np.asarray(Image.open(f).convert("RGB")) for f in draw])
            tiles, groups = cut_tiles(images, ref.shape[1])
            result = judge.score(tiles, candidate_groups=groups)
            row = {"label": label, "draw": d if per_draw else "all", "images": len(draw),
                   "first_image": Path(draw[0]).name, "cuts": len(tiles), "n_real": len(ref),
                   "finest_band_ratio": finest_band_ratio(tiles), "finest_band_ratio_real": real_ratio,
                   "grid_ratio": grid_ratio(images, 4)}
            row.update(judge_columns(result))
            label_rows.append(row)
            log.info(f"cuts {label}{f' draw {d}' if per_draw else ''}: {len(draw)} images, {len(tiles)} cuts "
                     f"(finest-band ratio {row['finest_band_ratio']:+.2f}, the real tiles' "
                     f"{row['finest_band_ratio_real']:+.2f}; grid ratio {row['grid_ratio']:.2f} at 4 px): "
                     + judge_summary(result))
        rows += label_rows
        if per_draw and len(label_rows) > 1:
            summary = {"label": label, **draws_summary(label_rows, list(judge.families))}
            rows.append(summary)
            log.info(f"cuts {label}: mean over {len(label_rows)} draws of {per_draw} images: "
                     + ", ".join(f"{f} {summary[f]:.3f} (SD {summary[f + '_sd']:.3f}, "
                                 f"{summary[f + '_min']:.3f}-{summary[f + '_max']:.3f})"
                                 for f in [*judge.families, "judge_max"]))
    pd.DataFrame(rows).to_csv(out_csv, index=False, float_format="%.4f")


def judge_coarser_zoom(tree: Path, zoom: int, sigmas: list[float], judge, out_csv: Path) -> None:
    """The scale control of the ``--cuts`` measure: real tiles of a coarser zoom (ground twice as far) judged against
    the reference, as they are and blurred to the native softness. What real ground at another scale scores bounds
    what a zoom-25 cut (ground four times closer) can score against zoom-23 tiles."""
    import pandas as pd
    from PIL import Image

    from rockzoom.superres.degradation import blur_lr, finest_band_ratio

    tiles = [np.asarray(Image.open(f).convert("RGBA")) for f in sorted((tree / str(zoom)).glob("*/*.png"))]
    tiles = np.stack([t[..., :3] for t in tiles if (t[..., 3] == 255).all()])
    rows = []
    for sigma in sigmas:
        blurred = blur_lr(tiles, sigma)  # the training LR's own blur (mirrored edges)
        result = judge.score(blurred)
        row = {"zoom": zoom, "blur": sigma, "n": len(tiles), "finest_band_ratio": finest_band_ratio(blurred)}
        row.update(judge_columns(result))
        rows.append(row)
        log.info(f"zoom {zoom} ({len(tiles)} complete tiles), blur {sigma:g} px: finest-band ratio "
                 f"{row['finest_band_ratio']:+.2f}, "
                 + judge_summary(result))
    pd.DataFrame(rows).to_csv(out_csv, index=False, float_format="%.4f")


def plot_curve(rows: list[dict], path: Path, target: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 5))
    series: dict[str, list[dict]] = {}
    for r in rows:
        series.setdefault(f"{r.get('recipe', r['method'])}{' +bp' if r.get('back_project') else ''}", []).append(r)
    for label, rs in series.items():
        rs = sorted(rs, key=lambda r: r.get("alpha", 0))
        x = [r["psnr"] for r in rs]
        y = [r["judge_max"] for r in rs]
        ax.plot(x, y, marker="o", ls="-" if len(rs) > 1 else "none", label=label)
        for r in rs:
            if "alpha" in r and len(rs) > 1:
                ax.annotate(f"{r['alpha']:g}", (r["psnr"], r["judge_max"]), fontsize=7, xytext=(3, 3),
                            textcoords="offset points")
    bicubic = next((r["psnr"] for r in rows if r["method"] == "bicubic"), None)
    if bicubic is not None:
        ax.axvline(bicubic, color="grey", ls=":", lw=1, label="bicubic PSNR")
    ax.axhline(target, color="red", ls="--", lw=1, label=f"target {target}")
    ax.axhline(0.5, color="black", ls=":", lw=1, label="chance")
    ax.set_xlabel("PSNR to the real tile (dB)")
    ax.set_ylabel("judge (max over families; 1 = always told from real)")
    ax.set_title(f"perception-distortion, x4 by scale analogy (n = {rows[0]['n']} real tiles)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def zoom_figure(tiles_dir: Path, zoom: int, upscalers: dict, out_png: Path, tile_xy: tuple[int, int] | None,
                context: int = 16, crop: int = 512) -> None:
    """A zoom-z tile beside its zoom z+2 children from each upscaler, all at the z+2 pixel size: the centre ``crop`` px
    of the children at 1:1, and the same ground of the z tile with each pixel shown as a 4x4 block. The children are
    upscaled with ``context`` px of neighbour tiles, as the pyramid does."""
    from PIL import Image, ImageDraw

    from rockzoom.generation.pyramid import mosaic
    from rockzoom.superres.upscale import upscale_tiled

    canvas, (x0, y0) = mosaic(tiles_dir, zoom)
    rgb, alpha = canvas[..., :3], canvas[..., 3]
    full = [(ty, tx) for ty in range(1, rgb.shape[0] // 256 - 1) for tx in range(1, rgb.shape[1] // 256 - 1)
            if alpha[ty * 256:(ty + 1) * 256, tx * 256:(tx + 1) * 256].min() > 0]
    if tile_xy is None:
        ty, tx = full[len(full) // 2]
    else:
        tx, ty = tile_xy[0] - x0, tile_xy[1] - y0
    window = rgb[ty * 256 - context:(ty + 1) * 256 + context, tx * 256 - context:(tx + 1) * 256 + context]
    tile = rgb[ty * 256:(ty + 1) * 256, tx * 256:(tx + 1) * 256]
    centre = slice(512 - crop // 2, 512 + crop // 2)
    panels = [(f"zoom {zoom} tile ({x0 + tx}, {y0 + ty}), pixels x4", tile.repeat(4, 0).repeat(4, 1)[centre, centre])]
    for name, up in upscalers.items():
        out = np.empty((window.shape[0] * 4, window.shape[1] * 4, 3), np.uint8)
        upscale_tiled(up, window, tile=window.shape[0], overlap=0, out=out)
        panels.append((f"zoom {zoom + 2}: {name}", out[context * 4:-context * 4, context * 4:-context * 4][centre, centre]))
    gap, label_h = 8, 18
    sheet = Image.new("RGB", (len(panels) * crop + (len(panels) - 1) * gap, label_h + crop), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (name, image) in enumerate(panels):
        x = i * (crop + gap)
        draw.text((x + 4, 3), name, fill=(0, 0, 0))
        sheet.paste(Image.fromarray(np.ascontiguousarray(image)), (x, label_h))
    out_png.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out_png, optimize=True)
    log.info(f"wrote {out_png}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="results/data/s256 of a real-tree run")
    parser.add_argument("--splits", nargs="+", default=["val", "test"], choices=["val", "test"],
                        help="held-out splits of the reference (tune on val, report on test)")
    parser.add_argument("--psnr-model", type=Path, required=True)
    parser.add_argument("--models", nargs="*", default=[], metavar="LABEL=CKPT", help="fine-tunes of the PSNR net")
    parser.add_argument("--alphas", nargs="*", type=float, default=[1.0], help="interpolation weights of each model")
    parser.add_argument("--exemplars", nargs="*", default=[], metavar="LABEL=CKPT",
                        help="exemplar checkpoints (results/sr_exemplar/.../model.pt), one row per --gains value")
    parser.add_argument("--gains", nargs="*", type=float, default=[1.0], help="exemplar detail weights")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="other exemplar settings for every exemplar row (e.g. coherence=2)")
    parser.add_argument("--sigmas", nargs="*", type=float, default=[], help="exemplar vote sigmas (default: its own)")
    parser.add_argument("--refiners", nargs="*", default=[], metavar="LABEL=CKPT",
                        help="diffusion refiners after the PSNR net (results/refiner/.../model.pt), one row per "
                             "--refine-steps value")
    parser.add_argument("--refine-steps", nargs="*", type=int, default=[4], help="DDIM steps of each refiner row")
    parser.add_argument("--skip", nargs="*", default=[], help="leave out these baseline rows (bicubic lanczos psnr)")
    parser.add_argument("--back-project", action="store_true", help="every row also with exact LR consistency")
    parser.add_argument("--families", nargs="+", default=["texture", "cnn"], help="judge families")
    parser.add_argument("--cnn-seeds", nargs="+", type=int, default=[0],
                        help="the CNN judge's score is its mean over these seeds (where n is small, one seed swings)")
    parser.add_argument("--controls", nargs="*", default=[], help="positive controls scored as rows (from the reference)")
    parser.add_argument("--texture-coupling", action="store_true",
                        help="the texture family with the cross-scale coupling statistics")
    parser.add_argument("--lr-blur", type=float, default=0.0,
                        help="blur the analogy's LR by this Gaussian sigma (LR px) after the box average: the native "
                             "tiles' softness (sr.train.lr_blur, rockzoom.superres.degradation)")
    parser.add_argument("--lr-jpeg", type=int, default=0, metavar="QUALITY",
                        help="then JPEG-compress the analogy's LR at this quality: the native tiles' 8 px blocks "
                             "(sr.train.lr_jpeg); 0: not")
    parser.add_argument("--coarser-zoom", type=Path, default=None, metavar="TREE",
                        help="scale control: also judge the complete tiles of TREE's zoom 22 (real ground at half "
                             "the scale) against the reference, as they are and blurred by each --coarser-blur")
    parser.add_argument("--coarser-blur", nargs="*", type=float, default=[0.65], help="Gaussian sigmas (px)")
    parser.add_argument("--target", type=float, default=0.80, help="the judge target drawn on the plot")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--sheet-row", default=None, metavar="ROW",
                        help="also write a blind side-by-side sheet (real held-out tiles vs this row's outputs, "
                             "rockzoom.generation.blind_test) to OUT/sheet; ROW is a row name as logged")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cuts", nargs="*", default=[], metavar="LABEL=GLOB",
                        help="generated images judged by their reference-sized cuts")
    parser.add_argument("--cuts-per-draw", type=int, default=None, metavar="K",
                        help="judge each label's images in disjoint draws of K (a run's sample count, e.g. 8) and "
                             "report each draw and their mean: the spread between draws of the same generator")
    parser.add_argument("--no-curve", action="store_true", help="only --cuts and --figure")
    parser.add_argument("--figure", type=Path, default=None, help="also write the z / z+2 figure here")
    parser.add_argument("--tiles", type=Path, default=None, help="the tile tree of the figure")
    parser.add_argument("--zoom", type=int, default=23)
    parser.add_argument("--tile", type=int, nargs=2, default=None, metavar=("X", "Y"), help="the figure's tile (XYZ)")
    args = parser.parse_args()
    from rockzoom.metrics.controls import CONTROLS, make_control

    if set(args.controls) - set(CONTROLS):
        parser.error(f"--controls: unknown {sorted(set(args.controls) - set(CONTROLS))}; expected some of {CONTROLS}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    import torch

    from rockzoom.metrics.judges import Judge, box_down
    from rockzoom.superres.back_projection import BackProjected
    from rockzoom.superres.exemplar import ExemplarSettings
    from rockzoom.superres.upscale import build_upscaler

    torch.set_num_threads(args.threads)
    models = dict(m.split("=", 1) for m in args.models)
    import yaml

    overrides = {k: yaml.safe_load(v) for k, v in (o.split("=", 1) for o in args.set)}
    dataclasses.replace(ExemplarSettings(), **overrides)  # unknown keys and bad values are refused here, by name
    if args.figure is not None:
        ups = {"PSNR net (kind psnr)": build_upscaler(checkpoint=args.psnr_model, device="cpu")}
        if models:
            label, ckpt = next(iter(models.items()))
            ups[label] = build_upscaler(checkpoint=ckpt, device="cpu")
        for label, ckpt in dict(e.split("=", 1) for e in args.exemplars).items():
            up = build_upscaler(checkpoint=ckpt, device="cpu")
            up.settings = dataclasses.replace(up.settings, gain=args.gains[0], **overrides)
            ups[f"{label} (kind exemplar, gain {args.gains[0]:g})"] = up
        zoom_figure(args.tiles, args.zoom, ups, args.figure, tuple(args.tile) if args.tile else None)

    ref = heldout_tiles(args.data_dir, args.splits)
    groups = np.arange(len(ref))
    lr = box_down(ref, 4)
    if args.lr_blur:
        from rockzoom.superres.degradation import blur_lr

        lr = blur_lr(lr, args.lr_blur)
    if args.lr_jpeg:
        from rockzoom.superres.degradation import compress_lr

        lr = compress_lr(lr, args.lr_jpeg)  # box_down and blur_lr keep uint8
    judge = Judge(ref, {"families": args.families, "cnn": {"seeds": args.cnn_seeds},
                        "texture": {"coupling": args.texture_coupling}}, reference_groups=groups)
    log.info(f"{len(ref)} real held-out ({'+'.join(args.splits)}) tiles of {ref.shape[1]} px; judges {args.families}; "
             f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    candidates = [("bicubic", build_upscaler(method="bicubic", scale=4), {}),
                  ("lanczos", build_upscaler(method="lanczos", scale=4), {}),
                  ("psnr", build_upscaler(checkpoint=args.psnr_model, device="cpu"), {"recipe": "psnr", "alpha": 0.0})]
    candidates = [c for c in candidates if c[0] not in args.skip]
    for label, ckpt in models.items():
        for a in args.alphas:
            candidates.append((f"{label} a={a:g}", interpolated(args.psnr_model, Path(ckpt), a, label),
                               {"recipe": label, "alpha": a}))
    for label, ckpt in dict(e.split("=", 1) for e in args.exemplars).items():
        exemplar = build_upscaler(checkpoint=ckpt, device="cpu")
        exemplar.settings = dataclasses.replace(exemplar.settings, **overrides)  # before the levels: patch, pca_dims...
        exemplar.prepare()  # the source levels once, shared by the copies (they differ only in gain and sigma)
        for sigma in args.sigmas or [exemplar.settings.sigma]:
            for g in args.gains:
                up = copy.copy(exemplar)
                up.settings = dataclasses.replace(exemplar.settings, gain=g, sigma=sigma)
                candidates.append((f"{label} s={sigma:g} g={g:g}", up, {"recipe": f"{label} s={sigma:g}", "alpha": g}))
    for label, ckpt in dict(r.split("=", 1) for r in args.refiners).items():
        for steps in args.refine_steps:
            candidates.append((f"{label} k={steps}", refined_psnr_net(args.psnr_model, Path(ckpt), steps),
                               {"recipe": label, "alpha": steps}))
    rows = []
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.controls:
        rows.append(score_row(f"control: {name}", make_control(name, ref, seed=0), ref, lr, judge, groups, 0.0,
                              back_project=False))
    if args.coarser_zoom is not None:
        judge_coarser_zoom(args.coarser_zoom, 22, sorted({0.0, *args.coarser_blur}), judge, args.out / "coarser_zoom.csv")
    if args.cuts:
        judge_cuts(dict(c.split("=", 1) for c in args.cuts), ref, judge, args.out / "cuts.csv", args.cuts_per_draw)
    if args.no_curve:
        return
    for name, up, extra in candidates:
        for bp in ([False, True] if args.back_project else [False]):
            row_name = name + (" +bp" if bp else "")
            out, seconds = upscale_all(BackProjected(up) if bp else up, lr)
            rows.append(score_row(row_name, out, ref, lr, judge, groups, seconds, lr_blur=args.lr_blur,
                                  back_project=bp, **extra))
            if row_name == "psnr":
                log_distortion_floor(out, ref)
            if row_name == args.sheet_row:
                from rockzoom.generation.blind_test import write_sheet

                write_sheet(ref, out, args.out / "sheet", n=min(16, len(ref)))
            import pandas as pd

            pd.DataFrame(rows).to_csv(args.out / "curve.csv", index=False, float_format="%.4f")
    plot_curve(rows, args.out / "curve.png", args.target)
    (args.out / "settings.json").write_text(json.dumps({**vars(args), "load_average": os.getloadavg()}, default=str,
                                                       indent=2))
    log.info(f"wrote {args.out / 'curve.csv'} and curve.png")


if __name__ == "__main__":
    main()
