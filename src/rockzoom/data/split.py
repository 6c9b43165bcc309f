"""Spatially blocked train/val/test split.

Blocks are parent tiles at a coarser zoom. Every sample lies inside one block, so no val/test pixel is ever part of a
training sample; a guard band keeps training samples `guard_tiles` tiles away from val/test blocks, because adjacent
tiles share content. The assignment depends only on the tile index, the seed and the split settings, so every sample
size uses the same blocks (a test block at 256 px is a test block at 1024 px).
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from rockzoom.data.store import SPLITS
from rockzoom.data.tiles import TILE_SIZE, TileRecord

STRATIFY = ("luminance", "none")  # split.stratify: how val/test blocks are drawn


def tiles_per_side(size: int) -> int:
    """Zoom tiles per mosaic side: S/256 for mosaics, 1 for crops smaller than a tile."""
    return max(1, size // TILE_SIZE)


def check_size(size: int, zoom: int, block_zoom: int | None) -> None:
    """A sample size is 256*2^k or a divisor of 256, and (block_zoom given) fits in a split block."""
    if size >= TILE_SIZE:
        n = size // TILE_SIZE
        if size % TILE_SIZE or n & (n - 1):
            raise ValueError(f"dataset size {size} is not 256*2^k")
        if block_zoom is not None and n > 1 << (zoom - block_zoom):
            raise ValueError(
                f"dataset size {size} spans {n} tiles but a split block at split.block_zoom={block_zoom} holds only "
                f"{1 << (zoom - block_zoom)} zoom-{zoom} tiles per side; lower split.block_zoom or the size")
    elif TILE_SIZE % size:
        raise ValueError(f"dataset size {size} is not a divisor of 256")


def isolated_positions(xy: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """The positions none of whose 8 neighbours is in `xy`; none when that is every position (no survey)."""
    lone = {(x, y) for x, y in xy
            if not any((x + dx, y + dy) in xy for dx in (-1, 0, 1) for dy in (-1, 0, 1) if dx or dy)}
    return set() if len(lone) == len(xy) else lone


def survey_tiles(records: list[TileRecord]) -> tuple[list[TileRecord], list[TileRecord]]:
    """(the survey's tiles, the isolated ones). A tile is isolated when none of its 8 neighbours is indexed while
    other tiles have neighbours: a stray far from the survey (a stale tile of an earlier flight, one written under
    the wrong zoom). Isolated tiles are left out of the split and the datasets, so a stray neither adds a block nor
    reshuffles the draw of the held-out ones. A tree whose tiles all lack neighbours is kept whole (no survey to
    stray from)."""
    lone = isolated_positions({(r.x, r.y) for r in records})
    return [r for r in records if (r.x, r.y) not in lone], [r for r in records if (r.x, r.y) in lone]


def complete_groups(records: list[TileRecord], n: int) -> dict[tuple[int, int], list[TileRecord]]:
    """Every complete n x n neighbourhood aligned on the parent-tile grid, keyed by its top-left tile."""
    by_key = {(r.x, r.y): r for r in records}
    groups = {}
    for gx, gy in sorted({(r.x // n, r.y // n) for r in records}):
        members = [by_key.get((gx * n + i, gy * n + j)) for j in range(n) for i in range(n)]
        if all(m is not None for m in members):
            groups[(gx * n, gy * n)] = members
    return groups


def blocks_holding(records: list[TileRecord], size: int, shift: int, min_valid: float) -> set[tuple[int, int]]:
    """Blocks (tile coordinates >> shift) holding a complete size-px sample with mean valid fraction >= min_valid
    (for crops smaller than a tile: a tile with that valid fraction)."""
    return {(x0 >> shift, y0 >> shift) for (x0, y0), members in complete_groups(records, tiles_per_side(size)).items()
            if np.mean([m.valid_fraction for m in members]) >= min_valid}


def block_luminance(records: list[TileRecord], shift: int) -> dict[tuple[int, int], float]:
    """Mean luma of each block's valid pixels (tiles weighted by their valid fraction)."""
    sums: dict[tuple[int, int], list[float]] = {}
    for r in records:
        acc = sums.setdefault((r.x >> shift, r.y >> shift), [0.0, 0.0])
        acc[0] += r.mean_luma * r.valid_fraction
        acc[1] += r.valid_fraction
    return {b: (total / weight if weight else 0.0) for b, (total, weight) in sums.items()}


def draw_held_out(candidates: list[tuple[int, int]], k: int, rng: np.random.Generator,
                  luminance: dict[tuple[int, int], float] | None) -> list[tuple[int, int]]:
    """k blocks from candidates (already in random order). With luminance: one random block from each of k
    equal-count strata of the luminance-sorted candidates, so held-out blocks span dark to bright terrain instead of
    landing, by chance, all in one kind (on the real drone tree an unstratified draw put the two darkest blocks in
    test and none in train). Returned in stratum order, darkest first."""
    if luminance is None or k >= len(candidates):
        return candidates[:k]
    ranked = sorted(candidates, key=lambda b: luminance[b])  # stable: ties keep their random order
    return [ranked[int(rng.choice(stratum))] for stratum in np.array_split(np.arange(len(ranked)), k)]


def assign_blocks(
    records: list[TileRecord],
    zoom: int,
    block_zoom: int,
    fractions: dict[str, float],
    seed: int,
    largest_size: int,
    min_valid: float,
    stratify: str = "luminance",
    sizes: list[int] | None = None,
) -> dict[tuple[int, int], str]:
    """Map each block (bx, by) to a split. Val/test blocks are drawn first among blocks that hold at least one
    sample of the largest configured size, so every size gets a test sample when the data allows; otherwise raise.
    stratify="luminance" draws them across the brightness range of those blocks (see draw_held_out). When fewer
    such blocks exist than val/test need, the rest come from blocks holding the next smaller of `sizes` (never from a
    block holding no sample of any of them: val/test then get fewer blocks), and a lone block of the largest size
    goes to test. `records` are the survey's tiles (survey_tiles): an isolated stray would count as a block."""
    if block_zoom > zoom:
        raise ValueError(f"split.block_zoom={block_zoom} must not exceed tiles.zoom={zoom}")
    if stratify not in STRATIFY:
        raise ValueError(f"split.stratify={stratify!r}: expected one of {STRATIFY}")
    missing = set(SPLITS) - set(fractions)
    if missing:
        raise ValueError(f"split.fractions is missing {sorted(missing)}")
    shift = zoom - block_zoom
    blocks = sorted({(r.x >> shift, r.y >> shift) for r in records})
    full = blocks_holding(records, largest_size, shift, min_valid)
    if not full:
        raise ValueError(
            f"no split block holds a complete {largest_size}px sample with valid fraction >= {min_valid}; "
            f"the tile tree is too small or sparse for dataset.sizes={largest_size} (lower it or dataset.min_valid)")
    total = sum(fractions[k] for k in SPLITS)
    n_blocks = len(blocks)
    n_test = max(1, int(round(fractions["test"] / total * n_blocks)))
    n_val = max(1, int(round(fractions["val"] / total * n_blocks)))
    if n_test + n_val >= n_blocks:
        raise ValueError(
            f"only {n_blocks} split blocks at split.block_zoom={block_zoom}: too few for a train, val and test "
            f"block each; raise split.block_zoom (smaller blocks) or add tiles")
    rng = np.random.default_rng(seed)
    order = [blocks[i] for i in rng.permutation(n_blocks)]
    luminance = block_luminance(records, shift) if stratify == "luminance" else None
    held_out = draw_held_out([b for b in order if b in full], n_test + n_val, rng, luminance)
    lone_full = len(held_out) == 1
    for size in sorted({s for s in sizes or () if s < largest_size}, reverse=True):
        if len(held_out) >= n_test + n_val:
            break
        tier = blocks_holding(records, size, shift, min_valid)
        held_out += [b for b in order if b in tier and b not in held_out][: n_test + n_val - len(held_out)]
    # A block holding no sample of any size would be held out for nothing: val/test get fewer blocks instead.
    # Alternate test/val (from a random start) so both get large samples when at least two full blocks exist and,
    # when stratified, both span the brightness range.
    start = int(rng.integers(2)) if luminance is not None else 0
    if lone_full:
        start = 0
    tests = held_out[start::2][:n_test]
    vals = [b for b in held_out if b not in tests][:n_val]
    tests += [b for b in held_out if b not in tests and b not in vals]
    assignment = {b: "train" for b in blocks}
    for b in tests:
        assignment[b] = "test"
    for b in vals:
        assignment[b] = "val"
    return assignment


def write_blocks(assignment: dict[tuple[int, int], str], zoom: int, block_zoom: int, path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["block_zoom", "bx", "by", "split", "tile_zoom"])
        for (bx, by), split in sorted(assignment.items()):
            writer.writerow([block_zoom, bx, by, split, zoom])


def read_blocks(path: str | Path) -> tuple[int, int, dict[tuple[int, int], str]]:
    with Path(path).open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        raise ValueError(f"{path}: no blocks")
    block_zoom, zoom = int(rows[0]["block_zoom"]), int(rows[0]["tile_zoom"])
    return zoom, block_zoom, {(int(r["bx"]), int(r["by"])): r["split"] for r in rows}


def gap_to_rect(x0: int, y0: int, n: int, rx0: int, ry0: int, rn: int) -> int:
    """Tiles strictly between an n-tile square at (x0, y0) and an rn-tile square at (rx0, ry0); -1 when they overlap."""
    dx = max(rx0 - (x0 + n), x0 - (rx0 + rn))
    dy = max(ry0 - (y0 + n), y0 - (ry0 + rn))
    return max(dx, dy)


def too_close_to_held_out(x0: int, y0: int, n: int, held_out: list[tuple[int, int]], block_tiles: int, guard: int) -> bool:
    return any(gap_to_rect(x0, y0, n, bx * block_tiles, by * block_tiles, block_tiles) < guard for bx, by in held_out)
