"""Diffusion refiner benchmark on the real rock tiles: does refinement add texture, and what does it cost in PSNR?

Every number is measured in this one run:
1. Real datasets s256 (and s1024) with the workflow's own stages and config/real-tiles.yaml's split (or --data-root).
2. The condition: an SR checkpoint (--sr-model, copied into --work) or, without one, config sr.nets.rlfn trained
   for --sr-minutes.
3. The refiner (config refiner.net / train) trained on (SR(LR), real HR) patches for a wall-clock budget
   (--minutes; the step count is calibrated from timed steps first).
4. On the held-out test split (HR 256, LR 64, x4): Bicubic, SR, and "SR + refine (k steps)" for each --steps k:
   PSNR (RGB pooled, Y pooled), SSIM, spectrum distance (dB), HF energy ratio above the LR Nyquist (0.125 cycles/px),
   ProGAN SWD on Laplacian patches (x1e3; mean over levels and the finest level), seconds per image.
5. One 1024 px test mosaic (SR 256 -> 1024, then refined patch-wise): seconds and a seam check (mean column-to-column
   jump on the window borders / elsewhere; 1.0 = no seam).

    .venv/bin/python benchmarks/bench_refiner.py --minutes 5 --steps 1 4
"""
from __future__ import annotations

import argparse
import copy
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "benchmarks"))

from real_tiles import DEFAULT_TILES, build_real_data  # noqa: E402

from rockzoom.data.store import load_split  # noqa: E402
from rockzoom.metrics.fidelity import evaluate  # noqa: E402
from rockzoom.metrics.spectrum import hf_energy_ratio, spectrum_distance  # noqa: E402
from rockzoom.metrics.texture import swd  # noqa: E402
from rockzoom.models.registry import REFINER_NETS, count_parameters  # noqa: E402
from rockzoom.refiner.inference import Refiner  # noqa: E402
from rockzoom.refiner.patching import _starts  # noqa: E402
from rockzoom.refiner.task import RefinerTask  # noqa: E402
from rockzoom.refiner.train import train_refiner, upscale_all  # noqa: E402
from rockzoom.superres.data import make_pairs  # noqa: E402
from rockzoom.superres.train import train_sr  # noqa: E402
from rockzoom.superres.upscale import ClassicalUpscaler, build_upscaler  # noqa: E402
from rockzoom.util.hashing import file_sha256  # noqa: E402
from rockzoom.util.logs import console_logging  # noqa: E402

SCALE = 4


def say(msg: str) -> None:
    print(msg, flush=True)


def seconds_per_step(ref: dict, data_dir: Path, sr_model: Path) -> float:
    """Median time of a few optimizer steps of the real batch shape (after one warm-up step)."""
    pairs = make_pairs(load_split(data_dir, "train"), SCALE, limit=4)
    up = upscale_all(build_upscaler(checkpoint=sr_model, device="cpu"), pairs.lr)
    task = RefinerTask(pairs.hr, pairs.hr_mask, up, pairs.hr, pairs.hr_mask, up, net=ref["net"],
                       prediction=ref["prediction"], residual_scale=0.05, patch=ref["train"]["patch"])
    model = task.build_model()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    times = []
    for i in range(4):
        batch = task.sample_batch(i, torch.Generator().manual_seed(i), ref["train"]["engine"]["batch_size"])
        t0 = time.perf_counter()
        loss = task._loss(model, batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if i:
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def seam_ratio(image: np.ndarray, patch: int, overlap: int) -> float:
    """Mean |x[:, j+1] - x[:, j]| on window borders and cross-fade zones / the same elsewhere (both axes)."""
    ratios = []
    for axis in (0, 1):
        jumps = np.abs(np.diff(image.astype(np.float64), axis=1 - axis)).mean(axis=(axis, 2))
        n = image.shape[1 - axis]
        starts = _starts(n, patch, overlap)
        edges = {s - 1 for s in starts[1:]} | {s + patch - 1 for s in starts[:-1]}
        edges |= {s + k for s in starts[1:] for k in range(overlap)}
        edges = sorted(e for e in edges if 0 <= e < len(jumps))
        other = np.setdiff1d(np.arange(len(jumps)), edges)
        ratios.append(float(jumps[edges].mean() / jumps[other].mean()))
    return max(ratios)


def score(name: str, preds: np.ndarray, pairs, seconds: float) -> dict:
    s = evaluate(preds, pairs.hr, pairs.hr_mask, border=SCALE)
    t = swd(preds, pairs.hr, pairs.hr_mask, seed=0)
    return {"method": name, "n": s["n"], "psnr": s["psnr_pooled"], "psnr_y": s["psnr_y_pooled"], "ssim": s["ssim"],
            "spectrum_db": spectrum_distance(preds, pairs.hr),
            "hf_ratio": hf_energy_ratio(preds, pairs.hr, cutoff=0.5 / SCALE),
            "swd": t["swd"], "swd_finest": t["swd_levels"][0], "s_per_image": seconds}


def print_table(rows: list[dict]) -> None:
    say("| method | n | PSNR (dB) | Y-PSNR | SSIM | spectrum dist. (dB) | HF ratio | SWD x1e3 (mean / finest) | s/image |")
    say("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        say(f"| {r['method']} | {r['n']} | {r['psnr']:.2f} | {r['psnr_y']:.2f} | {r['ssim']:.4f} | "
            f"{r['spectrum_db']:.2f} | {r['hf_ratio']:.3f} | {r['swd']:.1f} / {r['swd_finest']:.1f} | "
            f"{r['s_per_image']:.2f} |")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tiles", type=Path, default=DEFAULT_TILES)
    p.add_argument("--work", type=Path, default=REPO / "results" / "bench_refiner")
    p.add_argument("--data-root", type=Path, default=None, help="prebuilt <root>/s256 (and s1024) dataset folders")
    p.add_argument("--sr-model", type=Path, default=None, help="SR checkpoint for the condition (else trained here)")
    p.add_argument("--sr-minutes", type=float, default=2.0)
    p.add_argument("--minutes", type=float, default=5.0, help="refiner training wall-clock budget")
    p.add_argument("--steps", type=int, nargs="+", default=[1, 4], help="DDIM step counts to evaluate")
    p.add_argument("--n-images", type=int, default=8, help="test images (256 px) per row")
    p.add_argument("--big-steps", type=int, default=1, help="DDIM steps for the 1024 px run (0 = skip it)")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--eval-only", action="store_true", help="evaluate the refiner already trained in --work")
    args = p.parse_args()
    console_logging()
    torch.set_num_threads(args.threads or os.cpu_count() or 1)
    args.work.mkdir(parents=True, exist_ok=True)
    t_all = time.perf_counter()
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    ref = copy.deepcopy(config["refiner"])

    if args.data_root is not None:
        data = {s: args.data_root / f"s{s}" for s in (256, 1024) if (args.data_root / f"s{s}").is_dir()}
    else:
        data = build_real_data(args.tiles, args.work, [256, 1024])
    for size, d in data.items():
        say(f"real data s{size}: " + ", ".join(f"{s} {len(load_split(d, s))}" for s in ("train", "val", "test")))

    sr_model = args.work / "sr" / "model.pt"
    if args.sr_model is not None:
        sr_model.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(args.sr_model, sr_model)
        say(f"SR condition: {args.sr_model} (sha256 {file_sha256(sr_model)[:16]})")
    elif not sr_model.exists():
        sr_cfg = copy.deepcopy(config["sr"]["train"])
        sr_cfg["engine"].update(steps=max(20, int(args.sr_minutes * 60 / 0.8)), device="cpu")
        train_sr(data[256], model_out=sr_model, metrics_csv=sr_model.parent / "metrics.csv",
                 curve_png=sr_model.parent / "curve.png", scale=SCALE, net=config["sr"]["nets"]["rlfn"],
                 train_cfg=sr_cfg, seed=0, progress=False)

    out = args.work / "refiner" / "rlfn-x4-h256"
    if args.eval_only:
        say(f"evaluating the trained refiner {out / 'model.pt'} (no training)")
    else:
        train_budget(args, ref, data, sr_model, out)
    evaluate_rows(args, ref, data, sr_model, out)
    say(f"\ntotal wall time {(time.perf_counter() - t_all) / 60:.1f} min")
    return 0


def train_budget(args, ref, data, sr_model, out) -> None:
    t_step = seconds_per_step(ref, data[256], sr_model)
    steps = max(20, int(args.minutes * 60 / (t_step * 1.15)))
    ref["train"]["engine"].update(steps=steps, val_every=max(25, steps // 4), save_every=max(25, steps // 4),
                                  log_every=max(10, steps // 10), device="cpu", warmup_steps=min(50, steps // 10))
    n_params = count_parameters(REFINER_NETS.build("unet", **ref["net"]))
    say(f"refiner: {n_params} params ({ref['net']}), {ref['prediction']}-prediction; {t_step:.2f} s/step measured "
        f"-> {steps} steps of batch {ref['train']['engine']['batch_size']} x {ref['train']['patch']}² patches "
        f"(budget {args.minutes} min, {torch.get_num_threads()} threads, load average {os.getloadavg()[0]:.1f})")
    result = train_refiner(data[256], model_out=out / "model.pt", metrics_csv=out / "metrics.csv",
                           curve_png=out / "curve.png", scale=SCALE, upscaler="rlfn", net=ref["net"],
                           prediction=ref["prediction"], train_cfg=ref["train"], seed=0, sr_model=sr_model,
                           progress=False)
    say(f"refiner trained in {result.seconds / 60:.1f} min (best val at step {result.best_step}, resumed from "
        f"{result.resumed_from})")


def evaluate_rows(args, ref, data, sr_model, out) -> None:
    pairs = make_pairs(load_split(data[256], "test"), SCALE, limit=args.n_images)
    lr = pairs.lr.astype(np.float32) / 255.0
    rows = []
    bicubic = ClassicalUpscaler("bicubic", SCALE)
    t0 = time.perf_counter()
    preds = np.stack([bicubic.upscale(im) for im in lr])
    rows.append(score("Bicubic", preds, pairs, (time.perf_counter() - t0) / len(lr)))
    sr = build_upscaler(checkpoint=sr_model, device="cpu")
    sr.upscale(lr[0])
    t0 = time.perf_counter()
    sr_preds = np.stack([sr.upscale(im) for im in lr])
    t_sr = (time.perf_counter() - t0) / len(lr)
    rows.append(score("SR (rlfn)", sr_preds, pairs, t_sr))
    sample = ref["sample"]
    for k in args.steps:
        refiner = Refiner.from_checkpoint(out / "model.pt", steps=k, seed=0, patch=sample["patch"],
                                          overlap=sample["overlap"], batch=sample["batch"], device="cpu")
        t0 = time.perf_counter()
        refined = np.stack([refiner.refine(p) for p in sr_preds])
        t_ref = (time.perf_counter() - t0) / len(lr)
        again = refiner.refine(sr_preds[0])
        same = bool(np.array_equal(again, refined[0]))
        rows.append(score(f"SR + refine ({k} steps)", refined, pairs, t_sr + t_ref))
        say(f"  refine {k} steps: {t_ref:.2f} s/image on top of SR; rerun with the same seed identical: {same}")
    say(f"\nx4 test split, HR 256 (LR 64 -> 256), first {len(lr)} test images; SWD with masks, seed 0:")
    print_table(rows)

    if args.big_steps > 0 and 1024 in data and len(load_split(data[1024], "test")):
        big = make_pairs(load_split(data[1024], "test"), SCALE, limit=1)
        up = sr.upscale(big.lr[0].astype(np.float32) / 255.0)
        refiner = Refiner.from_checkpoint(out / "model.pt", steps=args.big_steps, seed=0, patch=sample["patch"],
                                          overlap=sample["overlap"], batch=sample["batch"], device="cpu")
        t0 = time.perf_counter()
        refined = refiner.refine(up)
        t_big = time.perf_counter() - t0
        s_up = evaluate(up, big.hr[0], big.hr_mask[0], border=SCALE, with_ssim=False)["psnr_pooled"]
        s_ref = evaluate(refined, big.hr[0], big.hr_mask[0], border=SCALE, with_ssim=False)["psnr_pooled"]
        say(f"\n1024 px test mosaic (SR 256 -> 1024, refined with {args.big_steps} steps in "
            f"{sample['patch']} px windows, overlap {sample['overlap']}): {t_big:.1f} s; PSNR SR {s_up:.2f} -> "
            f"refined {s_ref:.2f} dB; HF ratio SR {hf_energy_ratio(up, big.hr[0], 0.125):.3f} -> refined "
            f"{hf_energy_ratio(refined, big.hr[0], 0.125):.3f}; seam ratio (window borders / elsewhere) "
            f"SR {seam_ratio(up, sample['patch'], sample['overlap']):.3f}, refined "
            f"{seam_ratio(refined, sample['patch'], sample['overlap']):.3f}")
        from PIL import Image
        Image.fromarray(np.rint(np.concatenate([up, refined], 1) * 255).astype(np.uint8)).save(
            args.work / "sr_vs_refined_1024.png")


if __name__ == "__main__":
    sys.exit(main())
