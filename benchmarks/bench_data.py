"""Dataset build vs plain decoding, and array reads vs PNG decodes, measured in one run on the real tiles.

    python benchmarks/bench_data.py [TILE_DIR]

(a) building the s256 and s1024 datasets (index excluded) ÷ plain PIL decode of the same files   (goal <= 1.5)
(b) reading a random batch of 16 samples from the s256 arrays vs decoding 16 PNG tiles          (goal >= 20x faster)
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from rockzoom.data.dataset import build_dataset, make_split, plan_samples
from rockzoom.data.split import read_blocks
from rockzoom.data.store import load_split
from rockzoom.data.tiles import build_index, read_index

REPO = Path(__file__).resolve().parents[1]


def best_of(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> int:
    tile_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO.parent / "shared" / "data" / "rock-tiles"
    if not (tile_dir / "23").is_dir():
        print(f"no zoom-23 tiles under {tile_dir}; pass the tile tree as the first argument")
        return 2
    out = Path(tempfile.mkdtemp(prefix="bench_data_"))
    build_index(tile_dir, 23, out / "index.csv", out / "rejected.csv")
    make_split(out / "index.csv", out / "blocks.csv", zoom=23, block_zoom=21,
               fractions={"train": 0.7, "val": 0.15, "test": 0.15}, seed=0, sizes=[256, 1024], min_valid=0.5)
    records = read_index(out / "index.csv")
    paths = [r.path for r in records]
    zoom, block_zoom, assignment = read_blocks(out / "blocks.csv")

    def decode(files):
        for p in files:
            with Image.open(p) as im:
                np.asarray(im)

    results = {}
    for size in (256, 1024):
        t_build = best_of(lambda: build_dataset(out / "index.csv", out / "blocks.csv", out / f"s{size}", size=size,
                                                min_valid=0.5, guard_tiles=1))
        samples, _ = plan_samples(records, size, zoom, block_zoom, assignment, guard_tiles=1)
        used = sorted({m.path for s in samples for m in s.members})
        t_decode = best_of(lambda: decode(used))
        results[size] = (t_build, t_decode)
        print(f"(a) s{size}: build {t_build:.3f} s, plain PIL decode of the same {len(used)} files {t_decode:.3f} s, "
              f"ratio {t_build / t_decode:.2f} (goal <= 1.5)")

    train = load_split(out / "s256", "train")
    rng = np.random.default_rng(0)
    batch_paths = [paths[i] for i in rng.choice(len(paths), 16, replace=False)]

    def read_batch():
        idx = np.sort(rng.choice(len(train), 16, replace=False))
        return np.asarray(train.images[idx]), np.asarray(train.masks[idx])

    def decode_batch():
        for p in batch_paths:
            with Image.open(p) as im:
                np.asarray(im)

    t_read = best_of(read_batch, 20)
    t_png = best_of(decode_batch, 5)
    print(f"(b) batch of 16 at 256 px: arrays {t_read * 1e3:.2f} ms, PNG decode {t_png * 1e3:.1f} ms, "
          f"arrays {t_png / t_read:.0f}x faster (goal >= 20x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
