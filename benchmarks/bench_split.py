"""Does the real tree's split have a real-vs-real floor near 0.5? The classifier two-sample test of the realism table
(rockzoom.metrics.realism.c2st, 64 px crops) on the 256 px tiles of each split, measured in one run:

- training tiles against held-out (val + test) tiles, n of each a side: the realism table's floor;
- val tiles against test tiles: how much the held-out blocks differ from each other;
- two random halves of the training tiles: the control, 0.5 expected for any split.

Splits: config/real-tiles-z21.yaml (zoom-21 blocks of 4x4 tiles, one-tile guard band) and config/real-tiles.yaml
(zoom-22 blocks of 2x2 tiles, no guard band), both through the workflow's own index, split and dataset stages.

    .venv/bin/python benchmarks/bench_split.py --work /tmp/bench_split [--seeds 9]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from real_tiles import DEFAULT_TILES, REPO, build_real_data  # noqa: E402

from rockzoom.generation.realism import reference_tiles  # noqa: E402
from rockzoom.metrics.realism import c2st  # noqa: E402
from rockzoom.util.logs import console_logging  # noqa: E402

SPLITS = {"zoom 21, guard 1 (real-tiles-z21.yaml)": REPO / "config" / "real-tiles-z21.yaml",
          "zoom 22, guard 0 (real-tiles.yaml)": REPO / "config" / "real-tiles.yaml"}


def accuracy(a, b, seeds: tuple[int, ...]) -> tuple[float, float, int]:
    """Mean and spread of the C2ST crop accuracy over seeds; n images a side."""
    (ai, am), (bi, bm) = a, b
    r = c2st(ai, bi, real_masks=am, fake_masks=bm, seeds=seeds)
    return r["c2st"], float(np.std(r["c2st_seeds"])), r["n_real"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench_split"))
    ap.add_argument("--tiles", type=Path, default=DEFAULT_TILES)
    ap.add_argument("--seeds", type=int, default=9)
    args = ap.parse_args()
    if not (args.tiles / "23").is_dir():
        print(f"real tiles not found at {args.tiles} (set ROCKZOOM_REAL_TILES)", file=sys.stderr)
        return 2
    console_logging()
    seeds = tuple(range(args.seeds))
    rows = []
    for name, overlay in SPLITS.items():
        d = build_real_data(args.tiles, args.work / overlay.stem, [256], overlay)[256]
        tr, held, val, test = (reference_tiles(d, splits, None) for splits in (["train"], ["val", "test"], ["val"],
                                                                               ["test"]))
        half = np.random.default_rng(0).permutation(len(tr[0]))
        a, b = np.sort(half[: len(half) // 2]), np.sort(half[len(half) // 2:])
        rows.append((name, len(tr[0]), len(val[0]), len(test[0]),
                     accuracy(held, tr, seeds),
                     accuracy(val, test, seeds),
                     accuracy((tr[0][a], tr[1][a]), (tr[0][b], tr[1][b]), seeds)))
    print(f"\nC2ST accuracy (0.5 = alike), 256 px tiles, 64 px crops, mean ± sd over {len(seeds)} seeds; "
          "n = complete tiles a side")
    print("| split | train / val / test tiles | train vs held-out | val vs test | train half vs half |")
    print("|---|---|---|---|---|")
    for name, nt, nv, ns, th, vt, tt in rows:
        cell = lambda r: f"{r[0]:.3f} ± {r[1]:.3f} (n = {r[2]})"  # noqa: E731
        print(f"| {name} | {nt} / {nv} / {ns} | {cell(th)} | {cell(vt)} | {cell(tt)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
