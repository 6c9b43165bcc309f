"""Super-resolution benchmark on the real rock tiles; every number below is measured in this one run.

1. Builds the real dataset with the workflow's own stages (index, blocked split at zoom 21, exact mosaics) for
   HR 256 (and 512, 1024 where the split holds such mosaics) under --work.
2. Trains the default CPU net (config sr.nets.rlfn, sr.train) for a wall-clock budget (--minutes; the step count is
   calibrated from a few timed steps first), and evaluates bicubic, Lanczos and the net on the test split
   (x4: 64->256 and 256->1024), printing the PSNR gains.
3. Forward time of the default net vs EDSR-baseline at 256->1024 (same machine, same threads, median of 3).
4. `rockzoom upscale` tiled vs whole-image on a large real-texture image: PSNR between the two and the peak RSS of
   each process (tiled also at 1024² input, to show memory is bounded by the tile, not the image).

    .venv/bin/python benchmarks/bench_sr.py --minutes 10

`--curve`: instead, the quality-per-minute curve (benchmarks/sr_curve.py): the default net trained on bicubic LR and
on the pyramid's own LR (zoom z-2), and EDSR-baseline on bicubic LR, each for --curve-minutes with snapshots at
each point; every snapshot evaluated on both LR kinds (the 2x2 LR-kind table) on the s256 (s512, s1024) test splits.

    .venv/bin/python benchmarks/bench_sr.py --curve --curve-minutes 1 2.5 5 10 20
"""
from __future__ import annotations

import argparse
import copy
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "benchmarks"))

from real_tiles import DEFAULT_TILES, build_real_data  # noqa: E402

from rockzoom.config import load_config, stage_settings  # noqa: E402
from rockzoom.data.image_files import read_image, write_image  # noqa: E402
from rockzoom.data.store import load_split  # noqa: E402
from rockzoom.metrics.fidelity import evaluate  # noqa: E402
from rockzoom.models.registry import SR_NETS, count_parameters  # noqa: E402
from rockzoom.superres.data import make_pairs, sample_patches  # noqa: E402
from rockzoom.superres.evaluate import eval_sr  # noqa: E402
from rockzoom.superres.train import masked_charbonnier, train_sr  # noqa: E402
from rockzoom.util.logs import console_logging  # noqa: E402

EVAL_SIZES = (256, 512, 1024)  # HR sizes judged where the split holds them (the net trains on s256)


def seconds_per_step(net_cfg: dict, train_cfg: dict, data_dir: Path, scale: int, device: str,
                     clock=time.perf_counter, repeats: int = 3) -> float:
    """Median time of ``repeats`` optimizer steps of the real training batch shape (after one warm-up step) by
    ``clock``."""
    pairs = make_pairs(load_split(data_dir, "train"), scale, limit=8)
    model = SR_NETS.from_config(net_cfg, scale=scale).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    gen = torch.Generator().manual_seed(0)
    times = []
    for i in range(repeats + 1):
        t0 = clock()  # sampling included: on a GPU the host's patch sampling is most of a step
        batch = sample_patches(pairs, train_cfg["lr_patch"], train_cfg["engine"]["batch_size"], gen)
        batch = {k: v.to(device) for k, v in batch.items()}
        loss = masked_charbonnier(model(batch["lr"]), batch["hr"], batch["mask"], 1e-3)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if device == "cuda":
            torch.cuda.synchronize()
        if i:
            times.append(clock() - t0)
    return statistics.median(times)


@torch.no_grad()
def forward_seconds(net: torch.nn.Module, size: int, device: str, repeats: int = 3) -> float:
    net = net.to(device).eval()
    x = torch.rand(1, 3, size, size, device=device)
    net(x)
    times = []
    for _ in range(repeats):
        if device == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        net(x)
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def texture_image(data_dir: Path, size: int) -> np.ndarray:
    """A size² real-texture image: train tiles laid side by side, mirrored where they repeat."""
    images = load_split(data_dir, "train").images
    s = images.shape[1]
    n = size // s
    out = np.empty((size, size, 3), np.uint8)
    for i in range(n):
        for j in range(n):
            tile = images[(i * n + j) % len(images)]
            out[i * s:(i + 1) * s, j * s:(j + 1) * s] = tile[::-1] if (i + j) % 2 else tile
    return out


CHILD = ("import sys; from rockzoom.cli import main; from rockzoom.util.memory import rss_high_water_bytes; "
         "rc = main(sys.argv[1:]); print('PEAK_RSS', rss_high_water_bytes()); sys.exit(rc)")


def run_upscale_cli(args: list[str]) -> tuple[float, float]:
    """Run `rockzoom upscale` in a child process; -> (seconds, the child's own peak RSS in MiB (VmHWM))."""
    paths = [str(REPO / "src"), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CHILD, "upscale", *args], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"rockzoom upscale {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    peak = int(proc.stdout.split("PEAK_RSS")[1].split()[0])
    return time.perf_counter() - t0, peak / 2**20


def tiled_vs_whole(model: Path, data_dir: Path, work: Path, size: int, whole: bool, tile: int = 256) -> None:
    src = work / f"texture{size}.png"
    write_image(src, texture_image(data_dir, size))
    common = ["--model", str(model), "--device", "cpu"]
    t_tiled, rss_tiled = run_upscale_cli([str(src), str(work / f"up{size}_tiled.tif"), *common, "--tile", str(tile)])
    out_mib = (size * 4) ** 2 * 3 / 2**20
    print(f"upscale {size}² -> {size * 4}² tiled ({tile} px tiles, 16 px overlap): {t_tiled:.1f} s, "
          f"peak RSS {rss_tiled:.0f} MiB (the uint8 output alone is {out_mib:.0f} MiB)")
    if whole:
        t_whole, rss_whole = run_upscale_cli([str(src), str(work / f"up{size}_whole.tif"), *common,
                                              "--tile", str(size)])
        a, _ = read_image(work / f"up{size}_tiled.tif")
        b, _ = read_image(work / f"up{size}_whole.tif")
        psnr = evaluate(a, b, with_ssim=False)["psnr_pooled"]
        print(f"upscale {size}² whole image: {t_whole:.1f} s, peak RSS {rss_whole:.0f} MiB; "
              f"tiled vs whole PSNR {psnr:.1f} dB (uint8 outputs; max abs diff {np.abs(a.astype(int) - b).max()})")
    for f in (src, work / f"up{size}_tiled.tif", work / f"up{size}_whole.tif"):
        f.unlink(missing_ok=True)


def curve(args, sr: dict, data: dict[int, Path], scale: int) -> int:
    from sr_curve import cpu_seconds, run_curve

    wall = args.clock == "wall"

    index_csv = (args.data_root or args.work) / "tiles" / "index.csv"
    tables = []
    for run in args.curve_runs:
        net, lr_source = run.split(":")
        t_step = seconds_per_step(sr["nets"][net], sr["train"], data[256], scale, args.device,
                                  clock=time.perf_counter if wall else cpu_seconds)
        table = run_curve(data, index_csv, args.work, net_name=net, net_cfg=sr["nets"][net], train_cfg=sr["train"],
                          lr_source=lr_source, minutes=args.curve_minutes, seconds_per_step=t_step,
                          device=args.device, clock=time.perf_counter if wall else None,
                          eval_device=args.eval_device, self_ensemble_last=not args.no_self_ensemble)
        tables.append(table)
        table.to_csv(args.work / "curve.csv", mode="a", index=False, header=len(tables) == 1,
                     float_format="%.4f")
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"), flush=True)
    full = pd.concat(tables)
    full.to_csv(args.work / "curve.csv", index=False, float_format="%.4f")
    print(f"curve: {args.work / 'curve.csv'} ({torch.get_num_threads()} threads, device {args.device}; cpu_min = the "
          + ("wall-clock minutes of training (column clock = wall), " if wall else "") +
          f"training process's CPU minutes, wall_min beside)")
    plot_curve(full, args.work / "curve.png", ticks=args.curve_minutes,
               xlabel="training wall-clock minutes (" + args.device + ")" if wall else None)
    return 0


def plot_curve(table, path: Path, ticks=(2, 5, 10, 20, 40), xlabel: str | None = None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    plain = table[~table["self_ensemble"]]
    sizes = sorted(plain["hr"].unique())
    fig, axes = plt.subplots(1, len(sizes), figsize=(5.5 * len(sizes), 4), sharey=False, squeeze=False)
    for ax, size in zip(axes[0], sizes):
        for (net, trained, evaluated), g in plain[plain["hr"] == size].groupby(["net", "trained_on", "evaluated_on"]):
            g = g.sort_values("cpu_min")
            ax.plot(g["cpu_min"], g["gain_bicubic"], marker="o",
                    label=f"{net}, trained on {trained} LR, tested on {evaluated} LR")
        n = int(plain[plain["hr"] == size]["n"].iloc[0])
        ax.axhline(1.0, color="gray", ls="--", lw=0.8)
        ax.set(xscale="log", xlabel=xlabel or "training CPU-minutes (2 threads)", ylabel="PSNR gain over bicubic (dB)",
               title=f"x4 on the s{size} test split (n={n})")
        ax.set_xticks(list(ticks), [f"{t:g}" for t in ticks])
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tiles", type=Path, default=DEFAULT_TILES)
    p.add_argument("--work", type=Path, default=REPO / "results" / "bench_sr")
    p.add_argument("--data-root", type=Path, default=None,
                   help="prebuilt dataset folders <root>/s256 (and s512, s1024) from an earlier run; skips the tile stages")
    p.add_argument("--minutes", type=float, default=10.0, help="training wall-clock budget")
    p.add_argument("--net", default="rlfn", help="net name in config sr.nets")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--config", nargs="+", default=[], type=Path,
                   help="config overlays on config/config.yaml (e.g. config/gpu.yaml), later wins")
    p.add_argument("--clock", default="cpu", choices=["cpu", "wall"],
                   help="--curve minutes: the training process's CPU time, or wall-clock time (use wall on a GPU)")
    p.add_argument("--eval-device", default=None, choices=["cpu", "cuda"],
                   help="--curve: where snapshots are evaluated (default --device; cpu = fp32 scores)")
    p.add_argument("--no-self-ensemble", action="store_true", help="--curve: skip the x8 self-ensemble evaluation")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: all cores)")
    p.add_argument("--whole-sizes", type=int, nargs="*", default=[2048],
                   help="input sizes for the tiled-vs-whole check (whole-image needs ~13 GB at 4096²)")
    p.add_argument("--tiled-sizes", type=int, nargs="*", default=[1024], help="input sizes tiled only (peak RSS)")
    p.add_argument("--curve", action="store_true", help="the quality-per-minute curve and the LR-kind table")
    p.add_argument("--curve-minutes", type=float, nargs="+", default=[2, 5, 10, 20, 40], help="CPU-minutes")
    p.add_argument("--curve-runs", nargs="+", default=["rlfn:bicubic", "rlfn:pyramid", "edsr:bicubic"],
                   help="net:lr_source training runs of the curve")
    args = p.parse_args()
    console_logging()
    torch.set_num_threads(args.threads or os.cpu_count() or 1)
    args.work.mkdir(parents=True, exist_ok=True)
    config = load_config(*args.config)  # the packaged defaults (= config/config.yaml) + overlays, validated
    sr = {**config["sr"], "train": stage_settings(config, "sr.train")}
    net_cfg, train_cfg = sr["nets"][args.net], copy.deepcopy(sr["train"])
    scale = 4

    if args.data_root is not None:
        data = {size: args.data_root / f"s{size}" for size in EVAL_SIZES if (args.data_root / f"s{size}").is_dir()}
    else:
        data = build_real_data(args.tiles, args.work, list(EVAL_SIZES))
    for size, d in data.items():
        counts = {s: len(load_split(d, s)) for s in ("train", "val", "test")}
        print(f"real data s{size}: {counts}")
    if args.curve:
        return curve(args, sr, data, scale)

    t_step = seconds_per_step(net_cfg, train_cfg, data[256], scale, args.device)
    steps = max(10, int(args.minutes * 60 / (t_step * 1.15)))  # 15 % for validation and saving
    train_cfg["engine"].update(steps=steps, val_every=max(25, steps // 5), save_every=max(25, steps // 5),
                               log_every=max(10, steps // 20), device=args.device)
    print(f"training {args.net} ({count_parameters(SR_NETS.from_config(net_cfg, scale=scale))} params) x{scale}: "
          f"{t_step:.2f} s/step measured -> {steps} steps of batch {train_cfg['engine']['batch_size']} "
          f"(budget {args.minutes} min, {torch.get_num_threads()} threads, device {args.device})")
    out = args.work / "sr" / f"{args.net}-x{scale}-h256"
    result = train_sr(data[256], model_out=out / "model.pt", metrics_csv=out / "metrics.csv",
                      curve_png=out / "curve.png", scale=scale, net=net_cfg, train_cfg=train_cfg, seed=0,
                      state_dir=args.work / "sr" / f"{args.net}-x{scale}-h256.state", progress=False)
    print(f"trained in {result.seconds / 60:.1f} min (best val at step {result.best_step}, resumed from "
          f"{result.resumed_from})")

    for size, d in data.items():
        if len(load_split(d, "test")) == 0:
            continue
        table = eval_sr(d, scale=scale, models=[out / "model.pt"], table_csv=args.work / f"eval_x4_h{size}.csv",
                        crops_png=args.work / f"crops_x4_h{size}.png", device=args.device)
        rows = table.set_index("method")
        net = rows.loc[out.name]
        print(f"x4 test split HR {size} (LR {size // 4} -> {size}), n={int(net['n'])}: "
              f"net {net['psnr_pooled']:.2f} dB = bicubic {net['psnr_pooled'] - rows.loc['bicubic', 'psnr_pooled']:+.2f} dB"
              f", Lanczos {net['psnr_pooled'] - rows.loc['lanczos', 'psnr_pooled']:+.2f} dB (RGB pooled); "
              f"Y: {net['psnr_y_pooled'] - rows.loc['bicubic', 'psnr_y_pooled']:+.2f} dB over bicubic")
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))

    fast = SR_NETS.from_config(net_cfg, scale=scale)
    edsr = SR_NETS.from_config(sr["nets"]["edsr"], scale=scale)
    t_fast = forward_seconds(fast, 256, args.device)
    t_edsr = forward_seconds(edsr, 256, args.device)
    print(f"forward 256->1024 on {args.device}: {args.net} {t_fast * 1000:.0f} ms ({count_parameters(fast)} params), "
          f"EDSR-baseline {t_edsr * 1000:.0f} ms ({count_parameters(edsr)} params): {t_edsr / t_fast:.1f}x faster")

    for size in args.tiled_sizes:
        tiled_vs_whole(out / "model.pt", data[256], args.work, size, whole=False)
    for size in args.whole_sizes:
        tiled_vs_whole(out / "model.pt", data[256], args.work, size, whole=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
