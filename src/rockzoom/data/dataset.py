"""Build the per-size datasets: real pixels only, decoded once, split by block, written as memory-mappable arrays.

S >= 256: every complete (S/256)^2 neighbourhood of zoom tiles (aligned on the parent-tile grid) stitched into one
S x S mosaic, byte-for-byte the source tiles. S < 256: non-overlapping crops of single tiles.
"""
from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.lib.format import open_memmap

from rockzoom.data.split import (
    assign_blocks,
    block_luminance,
    check_size,
    complete_groups,
    read_blocks,
    survey_tiles,
    tiles_per_side,
    too_close_to_held_out,
    write_blocks,
)
from rockzoom.data.store import SPLITS, images_path, masks_path
from rockzoom.data.tiles import (
    TILE_SIZE,
    TileRecord,
    decode_tile,
    decode_tile_rgba,
    read_index,
)
from rockzoom.util.pool import ordered_map, warm_pool
from rockzoom.util.progress import progress

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Sample:
    x: int  # top-left zoom tile (XYZ)
    y: int
    ox: int  # pixel offset inside the tile (crops only)
    oy: int
    members: tuple[TileRecord, ...]
    block: tuple[int, int]
    split: str


def make_split(index_csv: str | Path, blocks_csv: str | Path, *, zoom: int, block_zoom: int | str,
               fractions: dict[str, float], seed: int, sizes: list[int], min_valid: float,
               stratify: str = "luminance", guard_tiles: int = 1,
               needs: dict[int, dict[str, list[str]]] | None = None, fit_json: str | Path | None = None) -> dict:
    """The `split_blocks` stage: assign blocks once for all sizes, at block_zoom or (\"auto\") the auto-fitted zoom
    (rockzoom.data.fit). `needs` ({size: {split: [targets]}}, rockzoom.config.needs) says which splits must not be
    empty; by default every size needs a test split. Sizes that lack a needed split are logged and written to
    fit_json, whose message build_dataset of that size raises."""
    from rockzoom.data.fit import fit_split, write_fit

    for s in sizes:
        check_size(s, zoom, None if block_zoom == "auto" else int(block_zoom))
    if needs is None:
        needs = {s: {"test": ["datasets"]} for s in sizes}
    records = read_index(index_csv)
    fit = fit_split(records, zoom=zoom, block_zoom=block_zoom, sizes=sizes, needs=needs, fractions=fractions,
                    seed=seed, min_valid=min_valid, guard_tiles=guard_tiles, stratify=stratify)
    block_zoom, assignment = fit.block_zoom, fit.assignment
    write_blocks(assignment, zoom, block_zoom, blocks_csv)
    if fit_json is not None:
        write_fit(fit, fit_json)
    counts = {k: sum(v == k for v in assignment.values()) for k in SPLITS}
    luma = block_luminance(records, zoom - block_zoom)
    ranges = {k: f"{min(v)}-{max(v)}" for k in SPLITS
              if (v := [round(luma[b]) for b, s in assignment.items() if s == k])}
    logger.info(f"{len(assignment)} blocks at zoom {block_zoom} ({'auto-fitted' if fit.auto else 'as set'}): "
                f"{counts}; block mean luma per split {ranges} (stratify={stratify})")
    for size, f in sorted(fit.sizes.items()):
        logger.info(f"s{size}: {f.complete} complete samples; train/val/test "
                    + "/".join(str(f.counts[k]) for k in SPLITS) + " samples in "
                    + "/".join(str(f.blocks[k]) for k in SPLITS) + " blocks")
    for size in fit.unsupported:
        logger.warning(fit.message(size))
    if fit.isolated:
        logger.warning(f"{len(fit.isolated)} isolated tile(s) (no indexed neighbour) left out of the split and the "
                       "datasets: " + ", ".join(f"{r.path} (x={r.x}, y={r.y})" for r in fit.isolated[:20])
                       + (" ..." if len(fit.isolated) > 20 else ""))
    return counts


def plan_samples(records: list[TileRecord], size: int, zoom: int, block_zoom: int,
                 assignment: dict[tuple[int, int], str], guard_tiles: int) -> tuple[list[Sample], int]:
    """All candidate samples of one size with their split; training samples inside the guard band are dropped.
    `records` are the survey's tiles (split.survey_tiles: isolated ones lie in no block). Returns (samples, number
    dropped by the guard band)."""
    shift = zoom - block_zoom
    block_tiles = 1 << shift
    held_out = {b for b, s in assignment.items() if s != "train"}
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
        if split == "train" and guard_tiles > 0 and too_close_to_held_out(
                x0, y0, n, _near_blocks(x0, y0, n, held_out, block_tiles, guard_tiles), block_tiles, guard_tiles):
            guarded += 1
            continue
        samples.append(Sample(x0, y0, ox, oy, members, block, split))
    return samples, guarded


def _near_blocks(x0: int, y0: int, n: int, blocks: set[tuple[int, int]], block_tiles: int,
                 guard: int) -> list[tuple[int, int]]:
    """The blocks of `blocks` that can lie within `guard` tiles of an n-tile square at (x0, y0) (a superset)."""
    bx0, bx1 = (x0 - guard) // block_tiles - 1, (x0 + n + guard) // block_tiles + 1
    by0, by1 = (y0 - guard) // block_tiles - 1, (y0 + n + guard) // block_tiles + 1
    return [(bx, by) for bx in range(bx0, bx1 + 1) for by in range(by0, by1 + 1) if (bx, by) in blocks]


def cap_samples(kept: list[tuple[Sample, float]], max_samples: int | None, seed: int) -> list[tuple[Sample, float]]:
    """At most max_samples of `kept`, drawn at random but stratified by block: each block keeps its share (largest
    remainders round), so every block of the split stays represented in proportion. Order is kept."""
    if max_samples is None or len(kept) <= max_samples:
        return kept
    by_block: dict[tuple[int, int], list[int]] = {}
    for i, (s, _) in enumerate(kept):
        by_block.setdefault(s.block, []).append(i)
    blocks = sorted(by_block)
    quota = np.array([len(by_block[b]) for b in blocks], np.float64) * max_samples / len(kept)
    take = np.floor(quota).astype(int)
    rest = max_samples - int(take.sum())
    take[np.argsort(-(quota - take), kind="stable")[:rest]] += 1
    rng = np.random.default_rng(seed)
    chosen = [i for b, k in zip(blocks, take) for i in rng.choice(by_block[b], size=int(k), replace=False)]
    return [kept[i] for i in sorted(chosen)]


def manifest_hash(samples: list[Sample], size: int) -> str:
    h = hashlib.sha256(f"size={size}\n".encode())
    for s in samples:
        h.update(f"{s.split},{s.x},{s.y},{s.ox},{s.oy},{','.join(m.sha1 for m in s.members)}\n".encode())
    return h.hexdigest()


def build_dataset(index_csv: str | Path, blocks_csv: str | Path, out_dir: str | Path, *, size: int,
                  min_valid: float, guard_tiles: int, max_pixels: int = 1 << 24, max_samples: int | None = None,
                  seed: int = 0, workers: int = 1, fit_json: str | Path | None = None) -> dict:
    """The `build_dataset` stage for one size; writes {split}_images/masks.npy, {split}_samples.csv, summary.json.

    Each split's arrays are memory-mapped .npy files filled by `workers` processes a chunk of samples at a time, so
    memory does not grow with the number of samples; the files are the same for any number of workers.
    With fit_json (split_blocks' split.json), a size lacking a split its targets need fails at once with its message."""
    if fit_json is not None:
        from rockzoom.data.fit import check_size_supported

        check_size_supported(fit_json, size)
    with warm_pool(workers) as pool:  # workers started before the sample plan exists (see rockzoom.util.pool)
        return _build_dataset(index_csv, blocks_csv, out_dir, size=size, min_valid=min_valid, guard_tiles=guard_tiles,
                              max_pixels=max_pixels, max_samples=max_samples, seed=seed, pool=pool)


def _build_dataset(index_csv: str | Path, blocks_csv: str | Path, out_dir: str | Path, *, size: int, min_valid: float,
                   guard_tiles: int, max_pixels: int, max_samples: int | None, seed: int, pool) -> dict:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    zoom, block_zoom, assignment = read_blocks(blocks_csv)
    check_size(size, zoom, block_zoom)
    records, _ = survey_tiles(read_index(index_csv))  # isolated tiles are in no split (as in make_split)
    samples, guarded = plan_samples(records, size, zoom, block_zoom, assignment, guard_tiles)
    del records
    n = tiles_per_side(size)

    kept: dict[str, list[tuple[Sample, float]]] = {k: [] for k in SPLITS}
    if size >= TILE_SIZE:
        # Tiles are equal-sized, so a mosaic's valid fraction is the mean of its tiles' (from the index): the kept
        # set is known before decoding.
        for s in samples:
            frac = float(np.mean([m.valid_fraction for m in s.members]))
            if frac >= min_valid:
                kept[s.split].append((s, frac))
    else:
        # A crop's valid fraction needs its tile's mask: a first parallel pass measures them.
        tiles = list(dict.fromkeys(s.members[0].path for s in samples))
        fractions = dict(zip(tiles, _pool_map(_crop_fractions, [(p, size, max_pixels) for p in tiles], pool,
                                              f"s{size} crop masks")))
        for s in samples:
            frac = float(fractions[s.members[0].path][s.oy // size, s.ox // size])
            if frac >= min_valid:
                kept[s.split].append((s, frac))
    valid_counts = {split: len(kept[split]) for split in SPLITS}
    for i, split in enumerate(SPLITS):
        kept[split] = cap_samples(kept[split], max_samples, seed=seed * 1000 + size * 10 + i)
        _write_split(out_dir, split, [s for s, _ in kept[split]], size, n, max_pixels, pool)
    summary_splits = {}
    for split in SPLITS:
        _write_samples_csv(out_dir / f"{split}_samples.csv", kept[split], size, zoom)
        fracs = [f for _, f in kept[split]]
        summary_splits[split] = {
            "count": len(kept[split]),
            "valid_fraction_mean": float(np.mean(fracs)) if fracs else None,
            "valid_fraction_min": float(np.min(fracs)) if fracs else None,
            "blocks": sorted({f"{s.block[0]}_{s.block[1]}" for s, _ in kept[split]}),
        }
        if max_samples is not None:
            summary_splits[split]["before_max_samples"] = valid_counts[split]
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
        "dropped_by_min_valid": len(samples) - sum(valid_counts.values()),
        "splits": summary_splits,
        "manifest_hash": manifest_hash(final_samples, size),
    }
    if max_samples is not None:
        summary["max_samples"] = max_samples  # per split, drawn stratified by block (seeded)
        summary["dropped_by_max_samples"] = sum(valid_counts.values()) - len(final_samples)
    if summary_splits["test"]["count"] == 0:
        raise ValueError(
            f"size {size}: the test split is empty (no complete {size}px sample in a test block with valid fraction "
            f">= {min_valid}); the tile tree is too small for this size — remove it from dataset.sizes or lower "
            f"dataset.min_valid")
    tmp = out_dir / "summary.json.tmp"
    tmp.write_text(json.dumps(summary, indent=2))
    os.replace(tmp, out_dir / "summary.json")
    logger.info(f"s{size}: " + ", ".join(f"{k} {v['count']}" for k, v in summary_splits.items())
                + f"; dropped {guarded} by the guard band, {summary['dropped_by_min_valid']} below min_valid"
                + (f", {summary['dropped_by_max_samples']} by max_samples" if max_samples is not None else ""))
    return summary


def _pool_map(fn, tasks: list, pool, desc: str) -> list:
    """fn over tasks in order, on the worker pool (None: in this process), with a progress line."""
    return list(progress(ordered_map(fn, tasks, pool), total=len(tasks), desc=desc))


def _crop_fractions(task: tuple) -> np.ndarray:
    """Valid fraction of each size x size crop of one tile, as a (rows, cols) grid."""
    path, size, max_pixels = task
    _, mask, _ = decode_tile(path, max_pixels=max_pixels)
    per = TILE_SIZE // size
    return mask.reshape(per, size, per, size).mean(axis=(1, 3))


# Samples per worker task: about 16 MiB of pixels (the pages of the memory map a worker has written count in its RSS
# until the task ends), so a worker's memory stays flat whatever the split's size.
_CHUNK_BYTES = 16 << 20


def _write_split(out_dir: Path, split: str, samples: list[Sample], size: int, n: int, max_pixels: int,
                 pool) -> None:
    """Create {split}_images/masks.npy as memory maps (through temporary names) and fill them chunk by chunk."""
    final = (images_path(out_dir, split), masks_path(out_dir, split))
    tmp = tuple(p.with_name(p.name + ".tmp.npy") for p in final)
    for path, shape, dtype in ((tmp[0], (len(samples), size, size, 3), np.uint8), (tmp[1], (len(samples), size, size), bool)):
        open_memmap(path, mode="w+", dtype=dtype, shape=shape).flush()  # writes the header, sizes the file
    per_chunk = max(1, _CHUNK_BYTES // (size * size * 4))
    tasks = [(str(tmp[0]), str(tmp[1]), start, [(s.ox, s.oy, [m.path for m in s.members]) for s in
                                                 samples[start:start + per_chunk]], size, n, max_pixels)
             for start in range(0, len(samples), per_chunk)]
    _pool_map(_fill_chunk, tasks, pool, f"s{size} {split} ({len(samples)} samples, {len(tasks)} chunks)")
    for t, f in zip(tmp, final):
        os.replace(t, f)


def _fill_chunk(task: tuple) -> int:
    """Decode the tiles of a run of samples straight into the split's memory-mapped arrays (a worker's job)."""
    images_file, masks_file, start, items, size, n, max_pixels = task
    images = np.load(images_file, mmap_mode="r+")
    masks = np.load(masks_file, mmap_mode="r+")
    for i, (ox, oy, member_paths) in enumerate(items, start):
        if size >= TILE_SIZE:
            for k, path in enumerate(member_paths):
                rgba, _ = decode_tile_rgba(path, max_pixels=max_pixels)
                r, c = divmod(k, n)
                rows, cols = slice(r * TILE_SIZE, (r + 1) * TILE_SIZE), slice(c * TILE_SIZE, (c + 1) * TILE_SIZE)
                images[i, rows, cols] = rgba[..., :3]
                np.greater(rgba[..., 3], 0, out=masks[i, rows, cols])
        else:
            rgba, _ = decode_tile_rgba(member_paths[0], max_pixels=max_pixels)
            crop = rgba[oy:oy + size, ox:ox + size]
            images[i] = crop[..., :3]
            np.greater(crop[..., 3], 0, out=masks[i])
    images.flush()
    masks.flush()
    del images, masks
    return len(items)


def _write_samples_csv(path: Path, kept: list[tuple[Sample, float]], size: int, zoom: int) -> None:
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["z", "x", "y", "offset_x", "offset_y", "size", "block", "valid_fraction"])
        for s, frac in kept:
            writer.writerow([zoom, s.x, s.y, s.ox, s.oy, size, f"{s.block[0]}_{s.block[1]}", f"{frac:.6f}"])
