"""Decode the real zoom-23 rock tiles into a dataset folder (arrays contract) for benchmarks, without the workflow.

Spatial hold-out by x column: the last 3 columns are test, the 2 before them val, the rest train.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
from PIL import Image

from rockzoom.arrays import save_split

DEFAULT_TILES = Path(os.environ.get("ROCKZOOM_REAL_TILES", Path(__file__).resolve().parents[1] / "../shared/data/rock-tiles"))


def decode(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with Image.open(path) as im:
        rgba = np.asarray(im.convert("RGBA"))
    return rgba[..., :3].copy(), rgba[..., 3] > 0


def build_real_dataset(out_dir: Path, tiles_root: Path = DEFAULT_TILES, zoom: int = 23) -> Path:
    if (out_dir / "summary.json").exists():
        return out_dir
    files = sorted((tiles_root / str(zoom)).glob("*/*.png"))
    if not files:
        raise FileNotFoundError(f"no tiles under {tiles_root / str(zoom)}")
    columns = sorted({int(f.parent.name) for f in files})
    split_of = {c: "train" for c in columns[:-5]} | {c: "val" for c in columns[-5:-3]} | {c: "test" for c in columns[-3:]}
    counts = {}
    for split in ("train", "val", "test"):
        chosen = [f for f in files if split_of[int(f.parent.name)] == split]
        pairs = [decode(f) for f in chosen]
        save_split(out_dir, split, np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs]))
        counts[split] = len(chosen)
    digest = hashlib.sha256("\n".join(str(f.relative_to(tiles_root)) for f in files).encode()).hexdigest()[:16]
    (out_dir / "summary.json").write_text(json.dumps({"counts": counts, "manifest_hash": digest}))
    return out_dir
