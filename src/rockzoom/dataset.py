"""Build the per-size datasets: real pixels only, decoded once, split by block, written as memory-mappable arrays.

S >= 256: every complete (S/256)^2 neighbourhood of zoom tiles (aligned on the parent-tile grid) stitched into one
S x S mosaic, byte-for-byte the source tiles. S < 256: non-overlapping crops of single tiles.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.lib.format import open_memmap

from rockzoom.arrays import SPLITS, images_path, masks_path
from rockzoom.split import (
    assign_blocks,
    check_size,
    complete_groups,
    read_blocks,
    tiles_per_side,
    too_close_to_held_out,
    write_blocks,
)
from rockzoom.tiles import TILE_SIZE, TileRecord, decode_tile, read_index


@dataclass(frozen=True)
class Sample:
    x: int  # top-left zoom tile (XYZ)
    y: int
    ox: int  # pixel offset inside the tile (crops only)
    oy: int
    members: tuple[TileRecord, ...]
    block: tuple[int, int]
    split: str


def make_split(index_csv: str | Path, blocks_csv: str | Path, *, zoom: int, block_zoom: int,
               fractions: dict[str, float], seed: int, sizes: list[int], min_valid: float, log=print) -> dict:
    """The `split_blocks` stage: assign blocks once for all sizes."""
    for s in sizes:
        check_size(s, zoom, block_zoom)
    records = read_index(index_csv)
    assignment = assign_blocks(records, zoom, block_zoom, fractions, seed, max(sizes), min_valid)
    write_blocks(assignment, zoom, block_zoom, blocks_csv)
    counts = {k: sum(v == k for v in assignment.values()) for k in SPLITS}
    log(f"{len(assignment)} blocks at zoom {block_zoom}: {counts}")
    return counts


def plan_samples(records: list[TileRecord], size: int, zoom: int, block_zoom: int,
                 assignment: dict[tuple[int, int], str], guard_tiles: int) -> tuple[list[Sample], int]:
    """All candidate samples of one size with their split; training samples inside the guard band are dropped.
    Returns (samples, number dropped by the guard band)."""
    shift = zoom - block_zoom
    block_tiles = 1 << shift
    held_out = [b for b, s in assignment.items() if s != "train"]
    n = tiles_per_side(size)
    samples, guarded = [], 0
    if size >= TILE_SIZE:
        candidates = [((x0, y0), tuple(members), 0, 0) for (x0, y0), members in complete_groups(records, n).items()]
    else:
        per = TILE_SIZE // size
        candidates = [((r.x, r.y), (r,), i * size, j * size) for r in records for j in range(per) for i in range(per)]
    for (x0, y0), members, ox, oy in candidates:
        block = (x0 >> shift, y0 >> shift)
        split = assignment.get(block)
        if split is None:
            raise ValueError(f"tile ({x0}, {y0}) lies in no block of the split; rebuild results/tiles/blocks.csv")
        if split == "train" and guard_tiles > 0 and too_close_to_held_out(x0, y0, n, held_out, block_tiles, guard_tiles):
            guarded += 1
            continue
        samples.append(Sample(x0, y0, ox, oy, members, block, split))
    return samples, guarded


def manifest_hash(samples: list[Sample], size: int) -> str:
    h = hashlib.sha256(f"size={size}\n".encode())
    for s in samples:
        h.update(f"{s.split},{s.x},{s.y},{s.ox},{s.oy},{','.join(m.sha1 for m in s.members)}\n".encode())
    return h.hexdigest()


def build_dataset(index_csv: str | Path, blocks_csv: str | Path, out_dir: str | Path, *, size: int,
                  min_valid: float, guard_tiles: int, max_pixels: int = 1 << 24, log=print) -> dict:
    """The `build_dataset` stage for one size; writes {split}_images/masks.npy, {split}_samples.csv, summary.json."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    zoom, block_zoom, assignment = read_blocks(blocks_csv)
    check_size(size, zoom, block_zoom)
    records = read_index(index_csv)
    samples, guarded = plan_samples(records, size, zoom, block_zoom, assignment, guard_tiles)
    n = tiles_per_side(size)
    span = min(size, TILE_SIZE)

    cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    last_use = {}
    for i, s in enumerate(samples):
        for m in s.members:
            last_use[m.path] = i

    def tile(m: TileRecord, i: int) -> tuple[np.ndarray, np.ndarray]:
        if m.path not in cache:
            rgb, mask, _ = decode_tile(m.path, max_pixels=max_pixels)
            cache[m.path] = (rgb, mask)
        out = cache[m.path]
        if last_use[m.path] == i:
            del cache[m.path]
        return out

    # Assemble every candidate once, keep those with enough valid pixels; write each split straight into its memmap.
    kept: dict[str, list[tuple[Sample, float]]] = {k: [] for k in SPLITS}
    staging = out_dir / ".staging"
    staging.mkdir(exist_ok=True)
    stage_img = open_memmap(staging / "images.npy", mode="w+", dtype=np.uint8, shape=(max(len(samples), 1), size, size, 3))
    stage_mask = open_memmap(staging / "masks.npy", mode="w+", dtype=bool, shape=(max(len(samples), 1), size, size))
    order = []
    for i, s in enumerate(samples):
        slot = len(order)
        for k, m in enumerate(s.members):
            rgb, mask = tile(m, i)
            r, c = divmod(k, n)
            if size >= TILE_SIZE:
                stage_img[slot, r * span:(r + 1) * span, c * span:(c + 1) * span] = rgb
                stage_mask[slot, r * span:(r + 1) * span, c * span:(c + 1) * span] = mask
            else:
                stage_img[slot] = rgb[s.oy:s.oy + size, s.ox:s.ox + size]
                stage_mask[slot] = mask[s.oy:s.oy + size, s.ox:s.ox + size]
        frac = float(stage_mask[slot].mean())
        if frac >= min_valid:
            kept[s.split].append((s, frac))
            order.append((s.split, slot))
    summary_splits = {}
    for split in SPLITS:
        slots = [slot for sp, slot in order if sp == split]
        _write_split_arrays(out_dir, split, stage_img, stage_mask, slots, size)
        _write_samples_csv(out_dir / f"{split}_samples.csv", kept[split], size, zoom)
        fracs = [f for _, f in kept[split]]
        summary_splits[split] = {
            "count": len(slots),
            "valid_fraction_mean": float(np.mean(fracs)) if fracs else None,
            "valid_fraction_min": float(np.min(fracs)) if fracs else None,
            "blocks": sorted({f"{s.block[0]}_{s.block[1]}" for s, _ in kept[split]}),
        }
    del stage_img, stage_mask
    for p in staging.iterdir():
        p.unlink()
    staging.rmdir()
    final_samples = [s for split in SPLITS for s, _ in kept[split]]
    summary = {
        "size": size,
        "zoom": zoom,
        "block_zoom": block_zoom,
        "kind": "mosaic" if size >= TILE_SIZE else "crop",
        "tiles_per_side": n,
        "min_valid": min_valid,
        "guard_tiles": guard_tiles,
        "candidates": len(samples) + guarded,
        "dropped_by_guard_band": guarded,
        "dropped_by_min_valid": len(samples) - len(final_samples),
        "splits": summary_splits,
        "manifest_hash": manifest_hash(final_samples, size),
    }
    if summary_splits["test"]["count"] == 0:
        raise ValueError(
            f"size {size}: the test split is empty (no complete {size}px sample in a test block with valid fraction "
            f">= {min_valid}); the tile tree is too small for this size — remove it from dataset.sizes or lower "
            f"dataset.min_valid")
    tmp = out_dir / "summary.json.tmp"
    tmp.write_text(json.dumps(summary, indent=2))
    os.replace(tmp, out_dir / "summary.json")
    log(f"s{size}: " + ", ".join(f"{k} {v['count']}" for k, v in summary_splits.items())
        + f"; dropped {guarded} by the guard band, {summary['dropped_by_min_valid']} below min_valid")
    return summary


def _write_split_arrays(out_dir: Path, split: str, stage_img, stage_mask, slots: list[int], size: int) -> None:
    for path, stage, shape, dtype in (
        (images_path(out_dir, split), stage_img, (len(slots), size, size, 3), np.uint8),
        (masks_path(out_dir, split), stage_mask, (len(slots), size, size), bool),
    ):
        tmp = path.with_name(path.name + ".tmp.npy")
        arr = open_memmap(tmp, mode="w+", dtype=dtype, shape=shape)
        for i, slot in enumerate(slots):
            arr[i] = stage[slot]
        arr.flush()
        del arr
        os.replace(tmp, path)


def _write_samples_csv(path: Path, kept: list[tuple[Sample, float]], size: int, zoom: int) -> None:
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["z", "x", "y", "offset_x", "offset_y", "size", "block", "valid_fraction"])
        for s, frac in kept:
            writer.writerow([zoom, s.x, s.y, s.ox, s.oy, size, f"{s.block[0]}_{s.block[1]}", f"{frac:.6f}"])
