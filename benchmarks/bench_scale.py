"""Survey scale: seconds per tile and peak memory of index, datasets and the pyramid on trees of growing size.

    python benchmarks/bench_scale.py TREE [TREE ...] [--out benchmarks/SCALE.md] [--pyramid-tiles 256]

Each TREE is a zoom-23 TMS tree (make one with `rockzoom demo-tiles DIR --tiles-x N --tiles-y M --chunk-tiles 8
--distinct-chunks 16 --workers 2`, under /work/scratch, never in the repo). Every stage runs as its own `rockzoom`
command; peak RSS is the largest sum of RSS over the command and its worker processes, sampled every 0.1 s.
Stages: index (2 workers), the s256 and s1024 datasets (2 workers; split at block zoom 20), and the Lanczos x4
pyramid on the first --pyramid-tiles tiles with 1 and 2 worker processes (a fixed-size region: a whole 40,000-tile
tree at x4 is 640,000 output tiles; the command lists the tree's tiles by name and decodes only that region and its
one-tile border, so its cost per tile should not depend on the tree). With --sr-tree, one run of an (untrained)
rlfn x4 net on that tree's region.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROCKZOOM = [sys.executable, "-m", "rockzoom"]
STAGES = ("index", "datasets", "pyramid")


def measure(cmd: list[str]) -> tuple[float, float, float, float]:
    """Run cmd; (wall seconds, CPU seconds of it and its workers, peak summed RSS and peak summed PSS of them in MiB).
    CPU seconds do not depend on what else the machine runs; wall seconds do. Summed RSS counts the pages that forked
    workers share with their parent once per process; PSS splits them, so summed PSS is what the processes occupy.
    RSS is read every 0.1 s (microseconds a read); PSS makes the kernel walk every mapping (~12 ms a process), so it
    is read at most once a second and at most 5% of the time: polled every 0.1 s it took a quarter of a core from the
    measured run, which showed as a 2-worker run 6% slower than it is."""
    t0 = time.perf_counter()
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    parent, peak, peak_pss, next_pss = psutil.Process(proc.pid), 0, 0, 0.0
    while proc.poll() is None:
        try:
            family = [parent, *parent.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in family))
            if time.perf_counter() >= next_pss:
                t = time.perf_counter()
                peak_pss = max(peak_pss, sum(p.memory_full_info().pss for p in family))
                next_pss = time.perf_counter() + max(1.0, 20 * (time.perf_counter() - t))
        except psutil.Error:
            pass
        time.sleep(0.1)
    wall = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr.read()[-3000:]}")
    cpu = cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime
    return wall, cpu, peak / 2**20, peak_pss / 2**20


def bench_tree(tree: Path, work: Path, pyramid_tiles: int, sr: bool, pyramid_workers: tuple[int, ...] = (1, 2),
               stages: tuple[str, ...] = STAGES) -> list[dict]:
    tiles = sum(1 for _ in (tree / "23").rglob("*.png"))
    rows = []

    def add(stage, cmd, n):
        wall, cpu, rss, pss = measure(cmd)
        rows.append({"tree": tree.name, "tiles": tiles, "stage": stage, "n": n, "seconds": round(wall, 1),
                     "s_per_tile": wall / n, "cpu_s_per_tile": cpu / n, "peak_rss_mib": round(rss), "peak_pss_mib": round(pss)})
        print(json.dumps(rows[-1]), flush=True)

    out = work / tree.name
    if "index" in stages or ("datasets" in stages and not (out / "tiles/index.csv").exists()):  # datasets read it
        add("index (2 workers)", ROCKZOOM + ["index", str(tree), "--workers", "2", "--out", str(out / "tiles")], tiles)
    for size in (256, 1024) if "datasets" in stages else ():
        add(f"dataset s{size} (2 workers)",
            ROCKZOOM + ["build-dataset", "--index", str(out / "tiles/index.csv"), "--blocks", str(out / "blocks.csv"),
                        "--size", str(size), "--out", str(out / f"s{size}"), "--block-zoom", "20", "--workers", "2"],
            tiles)
        for f in (out / f"s{size}").glob("*.npy"):
            f.unlink()  # disk: the 40,000-tile s256 arrays alone are 10 GB
    n = min(pyramid_tiles, tiles)
    for workers in pyramid_workers if "pyramid" in stages else ():
        add(f"pyramid lanczos x4 ({workers} worker{'s' * (workers > 1)})",
            ROCKZOOM + ["upscale-pyramid", str(tree), str(out / f"pyr{workers}"), "--method", "lanczos", "--scale",
                        "4", "--max-tiles", str(n), "--shard-tiles", "4", "--workers", str(workers)], n)
    if sr:
        import torch

        from rockzoom.models.registry import SR_NETS
        from rockzoom.util.checkpoint import save_checkpoint

        torch.manual_seed(0)
        net = SR_NETS.build("rlfn", scale=4)
        ckpt = out / "rlfn_x4_untrained.pt"
        save_checkpoint(ckpt, {"kind": "sr", "model_kwargs": {"arch": "rlfn", "scale": 4},
                               "state_dict": net.state_dict()})
        m = min(32, tiles)
        add("pyramid rlfn x4 (2 workers)",
            ROCKZOOM + ["upscale-pyramid", str(tree), str(out / "pyr_sr"), "--model", str(ckpt), "--max-tiles", str(m),
                        "--shard-tiles", "4", "--workers", "2", "--device", "cpu"], m)
    return rows


def table(rows: list[dict]) -> str:
    lines = ["| tree | tiles | stage | n | wall s | wall s/tile | CPU s/tile | peak RSS MiB (summed) | peak PSS MiB |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['tree']} | {r['tiles']} | {r['stage']} | {r['n']} | {r['seconds']} | "
                     f"{r['s_per_tile']:.4f} | {r['cpu_s_per_tile']:.4f} | {r['peak_rss_mib']} | {r['peak_pss_mib']} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("trees", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, default=None, help="markdown table (and .json beside it)")
    ap.add_argument("--work", type=Path, default=None, help="scratch folder for the outputs (default: a temp dir)")
    ap.add_argument("--pyramid-tiles", type=int, default=256)
    ap.add_argument("--sr-tree", default=None, help="name of the tree to run the SR net on (e.g. the smallest)")
    ap.add_argument("--stages", nargs="+", choices=STAGES, default=list(STAGES),
                    help="the stages to run (datasets without index reuse the index in --work if there is one, else "
                         "build it); the pyramid needs no index")
    ap.add_argument("--pyramid-workers", type=int, nargs="+", default=[1, 2],
                    help="worker counts of the pyramid runs (the 1-vs-2 speed-up needs idle cores; on shared cores "
                         "`--pyramid-workers 1` saves the second run)")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench_scale_"))
    rows = []
    for tree in args.trees:
        rows += bench_tree(tree, work, args.pyramid_tiles, sr=tree.name == args.sr_tree,
                           pyramid_workers=tuple(args.pyramid_workers), stages=tuple(args.stages))
    text = table(rows)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
        args.out.with_suffix(".json").write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
