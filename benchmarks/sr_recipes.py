"""SR recipe sweep at a fixed CPU budget: which change to the default net's training buys PSNR on real pyramid LR.

Each variant (VARIANTS below: a change of sr.nets.rlfn or sr.train) is trained with the workflow's own `train_sr`
for the number of steps the budget buys it **on the CPU**, so a variant that costs more per step gets fewer steps:

    steps(variant) = --base-steps * cpu_s_per_step(base) / cpu_s_per_step(variant)

The per-step CPU costs come from `--measure-costs` run on the CPU the budget is meant for (this 2-core machine):
it times each variant's training step (CPU seconds of this process, after a warm-up step) and writes a JSON file.
The training itself may then run anywhere (`--device cuda` runs the sweep's variants side by side on one GPU, in fp32
so that the result transfers to the CPU); every variant is evaluated in fp32 on the CPU on the s256 test split, on
both LR kinds, with the same seed. `base-seed1` repeats the base with another seed: the spread between the two is the
noise floor of one comparison.

    .venv/bin/python benchmarks/sr_recipes.py --measure-costs --costs results/sr_recipes/costs.json
    .venv/bin/python benchmarks/sr_recipes.py --costs results/sr_recipes/costs.json --base-steps 2300 --device cuda
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "benchmarks"))

# name -> {"net": overrides of sr.nets.rlfn, "train": overrides of sr.train (engine: overrides of its engine)}
VARIANTS: dict[str, dict] = {
    "base": {},
    "base-seed1": {"seed": 1},
    "lr2e-3": {"train": {"engine": {"lr": 0.002}}},
    "lr4e-3": {"train": {"engine": {"lr": 0.004}}},
    "no-clip": {"train": {"engine": {"grad_clip": 0.0}}},
    "l2-like": {"train": {"charbonnier_eps": 0.1}},  # Charbonnier with a wide eps ~ L2 on these errors: PSNR's loss
    "batch32-patch32": {"train": {"lr_patch": 32, "engine": {"batch_size": 32}}},
    "batch8-patch64": {"train": {"lr_patch": 64, "engine": {"batch_size": 8}}},
    "min-lr-0.2": {"train": {"engine": {"min_lr_ratio": 0.2}}},
    "blocks4": {"net": {"n_blocks": 4}},
    "blocks10": {"net": {"n_blocks": 10}},
    "feats48": {"net": {"n_feats": 48}},
    "attention": {"net": {"attention": True}},
    "lr2e-3-no-clip": {"train": {"engine": {"lr": 0.002, "grad_clip": 0.0}}},
}


def variant_settings(sr: dict, name: str) -> tuple[dict, dict, int]:
    """(net config, train config, seed) of a variant over the config's sr.nets.rlfn and sr.train."""
    from rockzoom.config.loading import merge

    v = VARIANTS[name]
    net = merge(sr["nets"]["rlfn"], v.get("net", {}))
    train = merge(sr["train"], v.get("train", {}))
    return net, train, int(v.get("seed", 0))


def measure_costs(sr: dict, data_dir: Path, names: list[str], threads: int) -> dict[str, float]:
    import torch
    from bench_sr import seconds_per_step
    from sr_curve import cpu_seconds

    torch.set_num_threads(threads)
    costs, by_compute = {}, {}
    for name in names:
        net, train, _ = variant_settings(sr, name)
        # variants that differ only in optimisation settings do the same arithmetic per step: one measurement
        compute = json.dumps([net, train["lr_patch"], train["engine"]["batch_size"]], sort_keys=True)
        if compute not in by_compute:
            by_compute[compute] = seconds_per_step(net, train, data_dir, 4, "cpu", clock=cpu_seconds, repeats=12)
        costs[name] = by_compute[compute]
        print(f"{name}: {costs[name]:.3f} CPU s/step ({threads} threads)", flush=True)
    return costs


def run_variant(job: dict) -> dict:
    """Train one variant and score it (in a worker process)."""
    import torch

    from rockzoom.superres.evaluate import eval_sr
    from rockzoom.superres.train import train_sr
    from rockzoom.util.logs import console_logging

    console_logging()
    torch.set_num_threads(job["threads"])
    if job["device"] == "cuda":
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
    out = Path(job["out"])
    train = copy.deepcopy(job["train"])
    steps = job["steps"]
    train["engine"].update(steps=steps, val_every=max(50, steps // 4), save_every=max(50, steps // 4),
                           log_every=max(10, steps // 10), device=job["device"], bf16=False)
    t0 = time.perf_counter()
    train_sr(job["data"], model_out=out / "model.pt", metrics_csv=out / "metrics.csv", curve_png=out / "curve.png",
             scale=4, net=job["net"], train_cfg=train, seed=job["seed"], state_dir=out / "run.state",
             index_csv=job["index_csv"], progress=False)
    seconds = time.perf_counter() - t0
    table = eval_sr(job["data"], scale=4, models=[out / "model.pt"], table_csv=out / "eval.csv",
                    crops_png=out / "crops.png", device="cpu", measure_memory=False,
                    lr_sources=("pyramid", "bicubic"), index_csv=job["index_csv"])
    row = {"variant": job["name"], "steps": steps, "cpu_s_per_step": job["cost"], "train_s": round(seconds, 1)}
    for lr_kind, group in table.groupby("lr_source"):
        by = group.set_index("method")
        net = by.loc[out.name]  # a checkpoint is named after its folder
        row[f"n_{lr_kind}"] = int(net["n"])
        row[f"psnr_{lr_kind}"] = net["psnr_pooled"]
        row[f"gain_bicubic_{lr_kind}"] = net["psnr_pooled"] - by.loc["bicubic", "psnr_pooled"]
        row[f"gain_lanczos_{lr_kind}"] = net["psnr_pooled"] - by.loc["lanczos", "psnr_pooled"]
    print(f"done {job['name']}: {row}", flush=True)
    return row


def main() -> int:
    from real_tiles import DEFAULT_TILES, build_real_data

    from rockzoom.config import load_config, stage_settings

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tiles", type=Path, default=DEFAULT_TILES)
    p.add_argument("--work", type=Path, default=REPO / "results" / "sr_recipes")
    p.add_argument("--costs", type=Path, required=True, help="JSON of CPU s/step per variant (written by "
                                                               "--measure-costs, read otherwise)")
    p.add_argument("--measure-costs", action="store_true")
    p.add_argument("--base-steps", type=int, default=2300,
                   help="steps the budget buys the base recipe on the target CPU (2300 ~ 20 idle 2-core minutes)")
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--jobs", type=int, default=1, help="variants trained side by side")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads per variant (default: cores / jobs)")
    args = p.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    config = load_config()
    sr = {**config["sr"], "train": stage_settings(config, "sr.train")}
    data = build_real_data(args.tiles, args.work, [256])[256]
    threads = args.threads or max(1, (os.cpu_count() or 1) // args.jobs)
    if args.measure_costs:
        names = args.variants if "base" in args.variants else ["base", *args.variants]
        costs = measure_costs(sr, data, names, threads)
        args.costs.parent.mkdir(parents=True, exist_ok=True)
        args.costs.write_text(json.dumps({"threads": threads, "cpu_s_per_step": costs}, indent=1))
        return 0
    costs = json.loads(args.costs.read_text())["cpu_s_per_step"]
    missing = [n for n in ["base", *args.variants] if n not in costs]
    if missing:
        raise SystemExit(f"{args.costs}: no cost for {missing}; run --measure-costs with them")
    jobs = []
    for name in args.variants:
        net, train, seed = variant_settings(sr, name)
        steps = max(20, round(args.base_steps * costs["base"] / costs[name]))
        jobs.append({"name": name, "net": net, "train": train, "seed": seed, "steps": steps, "cost": costs[name],
                     "data": str(data), "index_csv": str(args.work / "tiles" / "index.csv"),
                     "out": str(args.work / "runs" / name), "device": args.device, "threads": threads})
    t0 = time.perf_counter()
    rows = []
    with ProcessPoolExecutor(args.jobs, mp_context=get_context("spawn")) as pool:
        for done in as_completed([pool.submit(run_variant, job) for job in jobs]):
            rows.append(done.result())  # the table so far is on disk, should the sweep be cut short
            pd.DataFrame(rows).to_csv(args.work / "recipes.csv", index=False, float_format="%.4f")
    table = pd.DataFrame(rows).sort_values("gain_bicubic_pyramid", ascending=False)
    print(f"\nSR recipe sweep: {len(rows)} variants, base {args.base_steps} steps, trained on {args.device} "
          f"({args.jobs} side by side, fp32), scored in fp32 on the CPU; {time.perf_counter() - t0:.0f} s")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
