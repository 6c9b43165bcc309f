"""Native vs progressive vs multi-scale autoencoder at equal images seen, on the real rock tiles, through the workflow.

    .venv/bin/python benchmarks/bench_ae_variants.py --images 240          # ~CPU minutes; prints the table

Runs Snakemake in its own work folder (default results/bench_ae_variants/) with config/config.yaml +
config/real-tiles.yaml + an overlay this script writes: every variant sees the same number of training images
(native: images/batch steps at S; progressive: the same steps split evenly over its stages; multi-scale: as native),
validation twice per run. Prints the comparison (test PSNR/SSIM/spectrum distance, training wall time from the
Snakemake benchmark files, engine seconds from the training logs) and the multi-scale per-level scores.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def overlay(tiles: Path, images: int, batch: int, size: int, fade_fraction: float) -> dict:
    steps = max(1, images // batch)
    stage_steps = [steps // 3 + (1 if i < steps % 3 else 0) for i in range(3)]
    sizes = [size // 4, size // 2, size]
    val_every = max(1, steps // 2)

    def engine(n):
        return {"steps": n, "batch_size": batch, "warmup_steps": max(1, n // 10), "val_every": max(1, min(n, val_every)),
                "save_every": max(1, min(n, val_every)), "log_every": max(1, n // 5)}

    return {
        "tiles": {"dir": str(tiles)},
        "dataset": {"sizes": sorted({*sizes, 256, 512, 1024})},
        "ae": {"archs": {"vit": {"val_images": 16, "engine": engine(steps)}}},
        "ae_variants": {
            "size": size,
            "progressive": {"progressive": {"base": "vit", "sizes": sizes, "steps": stage_steps,
                                            "fade_images": int(fade_fraction * stage_steps[1] * batch)}},
            # the same engine settings per step as the native AE, so only the architecture differs
            "multiscale": {"multiscale": {"val_images": 16, "engine": engine(steps)}},
        },
    }


def engine_seconds(log: Path) -> float | None:
    if not log.exists():
        return None
    found = re.findall(r"done: .*\((\d+) s\)", log.read_text())
    return float(found[-1]) if found else None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tiles", type=Path, default=Path(os.environ.get("ROCKZOOM_REAL_TILES",
                                                                      REPO.parent / "shared/data/rock-tiles")))
    ap.add_argument("--workdir", type=Path, default=REPO / "results/bench_ae_variants")
    ap.add_argument("--images", type=int, default=240, help="training images seen by every variant")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--fade", type=float, default=0.5, help="fade-in length as a fraction of a stage's images")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--dry-run", action="store_true")
    args = ap.parse_args(argv)

    tiles = args.tiles.resolve()
    if not (tiles / "23").is_dir():
        print(f"real tiles not found at {tiles} (set --tiles or ROCKZOOM_REAL_TILES)", file=sys.stderr)
        return 2
    work = args.workdir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    cfg = overlay(tiles, args.images, args.batch, args.size, args.fade)
    (work / "bench.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    S = args.size
    targets = [f"results/ae_variants/s{S}/comparison.md", f"results/ae_levels/multiscale-s{S}/levels.json"]
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(work),
           "--configfile", str(REPO / "config/config.yaml"), str(REPO / "config/real-tiles.yaml"),
           str(work / "bench.yaml"), "--cores", str(args.cores), *(["-n"] if args.dry_run else []), *targets]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    t0 = time.time()
    proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        print(proc.stdout[-3000:], proc.stderr[-5000:], sep="\n", file=sys.stderr)
        return proc.returncode
    if args.dry_run:
        print(proc.stdout[-3000:])
        return 0
    print(f"# AE variants at {S} px, {args.images} training images each (batch {args.batch}); "
          f"snakemake wall {time.time() - t0:.0f} s; {os.cpu_count()} CPU threads visible\n")
    print((work / f"results/ae_variants/s{S}/comparison.md").read_text())
    chain = cfg["ae_variants"]["progressive"]["progressive"]
    secs = {
        "native": engine_seconds(work / f"logs/train_ae/vit-s{S}.log"),
        "progressive": sum(engine_seconds(work / f"logs/train_ae_progressive/progressive-s{s}.log") or 0
                           for s in chain["sizes"]),
        "multi-scale": engine_seconds(work / f"logs/train_ae_multiscale/multiscale-s{S}.log"),
    }
    print("engine seconds (training loop only, without process start and data loading): "
          + ", ".join(f"{k} {v:.0f}" for k, v in secs.items() if v is not None))
    print(f"progressive stages {chain['sizes']}, steps {chain['steps']}, fade-in {chain['fade_images']} images\n")
    levels = json.loads((work / f"results/ae_levels/multiscale-s{S}/levels.json").read_text())
    print("multi-scale per level (test, pooled PSNR dB / SSIM):")
    for key, row in levels["metrics"].items():
        print(f"  {key:>18}: {row['psnr_pooled']:.2f} / {row['ssim']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
