"""Realism benchmark on the real rock tiles: the whole realism table, and the time per sample at 256 and 1024 px,
measured in one run of the workflow's own rules (nothing here re-implements a stage).

Runs `snakemake results/benchmark/realism.md option_t option_a` on the real pyramid (config/config.yaml +
config/real-tiles.yaml, the 256 px benchmark sizes only; option_a runs the detail stage by default) in --work, then
prints the realism table, the real-vs-real floor, the detail stage's gain and layout, and from the options' provenance
the seconds per sample: option_t (AE 256 + detail, 256 px) and option_a (AE 256 + detail + learned SR x4, 1024 px).

    .venv/bin/python benchmarks/bench_realism.py --work /tmp/bench_realism
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DEFAULT_TILES = Path(os.environ.get("ROCKZOOM_REAL_TILES", REPO.parent / "shared" / "data" / "rock-tiles"))


def _option_judges(realism: dict) -> str:
    views = [(k, realism[k]) for k in ("own_pixel_size", "tree_pixel_size") if k in realism] or [("", realism)]
    return "; ".join(f"{name.replace('_', ' ') + ': ' if name else ''}judges' max vs training ground "
                     f"{v['train_max']:.3f} ({v['train_max_by']}), vs held-out {v['heldout_max']:.3f}"
                     for name, v in views)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench_realism"))
    ap.add_argument("--tiles", type=Path, default=DEFAULT_TILES)
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--reuse", action="store_true",
                    help="keep stages an earlier rockzoom version built in --work (rerun only on changed params/inputs)")
    args = ap.parse_args()
    if not (args.tiles / "23").is_dir():
        print(f"real tiles not found at {args.tiles} (set ROCKZOOM_REAL_TILES)", file=sys.stderr)
        return 2
    args.work.mkdir(parents=True, exist_ok=True)
    overlay = args.work / "bench-realism.yaml"
    overlay.write_text(f"tiles: {{dir: {args.tiles.resolve()}}}\nbenchmark: {{ae_sizes: [256]}}\n")
    cmd = [sys.executable, "-m", "snakemake", "results/benchmark/realism.md", "option_t", "option_a",
           "--snakefile", str(REPO / "Snakefile"), "--directory", str(args.work), "--cores", str(args.cores),
           "--configfile", str(REPO / "config/config.yaml"), str(REPO / "config/real-tiles.yaml"), str(overlay)]
    if args.reuse:
        at = cmd.index("--snakefile")  # before an option, so the trigger list does not swallow the targets
        cmd[at:at] = ["--rerun-triggers", "mtime", "params", "input"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=args.work)
    if proc.returncode:
        print(f"snakemake failed ({proc.returncode}); see {args.work}/logs", file=sys.stderr)
        return proc.returncode
    print(f"\nworkflow run: {(time.perf_counter() - t0) / 60:.1f} min (stages already built in --work are reused)\n")
    results = args.work / "results"
    print((results / "benchmark/realism.md").read_text())
    table = pd.read_csv(results / "benchmark/realism.csv")

    def judged(row, ref: str) -> str:
        return (f"max {row[f'{ref}_max']:.3f} [{row[f'{ref}_max_ci_low']:.2f}, {row[f'{ref}_max_ci_high']:.2f}] "
                f"({row[f'{ref}_max_by']}; texture {row[f'{ref}_texture']:.3f}, CNN {row[f'{ref}_cnn']:.3f}), "
                f"n = {int(row[f'{ref}_n'])} vs {int(row[f'{ref}_n_real'])}")

    for _, row in table[table["block"].isin(["floors", "power checks"]) & table["train_n"].notna()].iterrows():
        print(f"{row['method']}: {judged(row, 'train')}")
    for _, row in table[table["block"] == "generators"].iterrows():
        print(f"{row['method']}: vs training ground {judged(row, 'train')}; vs held-out {judged(row, 'heldout')}"
              + (f"; layout {row['layout_db']:.1f} / {row['layout_min_db']:.1f} dB" if pd.notna(row["layout_db"])
                 else ""))
    for _, row in table[table["block"] == "upscalers by scale analogy"].iterrows():
        print(f"{row['method']}: {judged(row, 'heldout')}; PSNR {row['psnr']:.2f} dB")
    for option, size in (("option_t", 256), ("option_a", 1024)):
        prov = json.loads((results / "generated" / option / "provenance.json").read_text())
        s = prov["seconds"]
        layout = prov["checks"].get("layout")
        print(f"{option}: {prov['output_size']} px, {s['per_image']:.1f} s per sample (decode "
              f"{s['sample_and_decode'] / prov['n']:.2f} + detail {s['detail'] / prov['n']:.1f} + upscale "
              f"{s['upscale'] / prov['n']:.2f} s), n = {prov['n']}; realism: "
              + (_option_judges(prov["realism"]) if prov.get("realism", {}).get("measured")
                 else prov.get("realism", {}).get("why", "not measured"))
              + (f"; layout {layout['mean_db']:.1f} dB mean, {layout['min_db']:.1f} min, "
                 f"{sum(v >= 22 for v in layout['psnr_db'])} of {prov['n']} >= 22 dB" if layout else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
