"""Where a person waits on the command line: the wall time of `rockzoom --help`, `rockzoom upscale --help`, and
optionally `snakemake -n` on a finished run; each the minimum (and median) of --runs fresh processes.

    .venv/bin/python benchmarks/bench_cli.py                       # --help timings
    .venv/bin/python benchmarks/bench_cli.py --finished RUN_DIR -- --configfile config/config.yaml config/test.yaml
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_SCRIPT = Path(sys.executable).parent / "rockzoom"  # the installed entry point, as a user runs it
ROCKZOOM = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "rockzoom"]


def timed(cmd: list[str], runs: int, cwd: Path | None = None) -> list[float]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd)
        times.append(time.perf_counter() - t0)
    return times


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--finished", type=Path, default=None, help="a finished run's folder for `snakemake -n`")
    ap.add_argument("--target", default="option_a")
    ap.add_argument("snakemake_args", nargs="*", help="after --: e.g. --configfile config/config.yaml ...")
    args = ap.parse_args(argv)

    cases = {"rockzoom --help": ROCKZOOM + ["--help"], "rockzoom upscale --help": ROCKZOOM + ["upscale", "--help"]}
    if args.finished:
        cases[f"snakemake -n {args.target}"] = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
                                                "--directory", str(args.finished), "--cores", "2", "-n", args.target,
                                                *args.snakemake_args]
    print(f"| command | min of {args.runs} (s) | median (s) |\n|---|---|---|")
    for name, cmd in cases.items():
        t = timed(cmd, args.runs, cwd=args.finished)
        print(f"| `{name}` | {min(t):.3f} | {statistics.median(t):.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
