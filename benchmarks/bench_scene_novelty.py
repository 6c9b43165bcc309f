"""Are the scene generator's samples new ground? Issue 28's copy measures on a run's scene samples.

    python benchmarks/bench_scene_novelty.py RUN_DIR [--sizes 256 512 1024] [--ground-size 256]

RUN_DIR is a workflow directory that made the realism table's scene rows (``results/samples/scene-s{G}/{size}px.npy``
and ``.json``, ``results/data/s{G}``). For each size, on the samples' 256 px cuts (a scene's cuts at its own pixel
size) against the training ground of ``results/data/s{G}`` (its samples laid out in survey pixels):

- nearest window: each cut's RMS distance (0-255) to the nearest fully valid 256 px window of the training ground,
  on a 4 px grid, under the cut's 8 flips/rotations (``rockzoom.scene.novelty``); the share of cuts nearer than 95%
  of the held-out tiles are to the same ground (the issue's bar: at most 5%);
- patch copy rates at 32, 64 and 128 px (``rockzoom.metrics.realism.memorisation``: patches nearer a training patch
  than 95% of held-out patches are; real held-out rate 5% by construction);
- the largest verbatim piece of each sample (its share of the image), from the samples' records;
- the smallest distance between two samples of the run and between two distinct real training tiles.
Prints one table; n is given per column.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from rockzoom.generation.judging import complete_tiles  # noqa: E402
from rockzoom.metrics.judges import cut_tiles  # noqa: E402
from rockzoom.metrics.realism import memorisation  # noqa: E402
from rockzoom.scene.ground import GroundIndex  # noqa: E402
from rockzoom.scene.novelty import copy_verdict, nearest_window_distances, pairwise_min_distance  # noqa: E402


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024])
    ap.add_argument("--ground-size", type=int, default=256)
    ap.add_argument("--heldout", nargs="+", default=["val", "test"])
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    data = args.run_dir / f"results/data/s{args.ground_size}"
    ground, ground_mask = GroundIndex.from_split(data, "train").mosaic()
    rng = np.random.default_rng(0)  # unused: no cap, every complete tile
    train = complete_tiles(data, ["train"], None, rng)
    held = complete_tiles(data, args.heldout, None, rng)
    held_d = nearest_window_distances(held, ground, ground_mask)
    real_pairwise = pairwise_min_distance(train)
    print(f"real: {len(train)} complete training tiles, {len(held)} held-out; held-out nearest-window distance "
          f"median {np.median(held_d):.1f}, 5th percentile {np.percentile(held_d, 5):.1f}; smallest distance "
          f"between two training tiles {real_pairwise:.1f}")
    print("| size | samples (cuts) | nearer than 95% of held-out | patch copy 32 / 64 / 128 px | largest verbatim "
          "piece median / max | smallest pairwise distance |")
    print("|---|---|---|---|---|---|")
    for size in args.sizes:
        stem = args.run_dir / f"results/samples/scene-s{args.ground_size}/{size}px"
        images = np.load(f"{stem}.npy")
        records = json.loads(Path(f"{stem}.json").read_text())["records"]
        cuts, _ = cut_tiles(images, args.ground_size) if size > args.ground_size else (images, None)
        verdict = copy_verdict(nearest_window_distances(cuts, ground, ground_mask), held_d)
        copies = memorisation(cuts, train, held, patches=(32, 64, 128))
        pieces = [r["largest_piece"] for r in records]
        pairwise = pairwise_min_distance(images if size == args.ground_size else cuts)
        print(f"| {size} px | {len(images)} ({len(cuts)}) | {verdict['share_closer']:.1%} "
              f"({round(verdict['share_closer'] * len(cuts))} of {len(cuts)}) | "
              f"{copies['patch_copy_32']:.1%} / {copies['patch_copy_64']:.1%} / {copies['patch_copy_128']:.1%} | "
              f"{np.median(pieces):.1%} / {np.max(pieces):.1%} | {pairwise:.1f} (real {real_pairwise:.1f}) |",
              flush=True)


if __name__ == "__main__":
    main()
