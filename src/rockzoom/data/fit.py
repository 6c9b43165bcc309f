"""The auto-fitted split: which block zoom gives every needed sample size the splits its targets need.

A size's needs come from the config (rockzoom.config.needs: split -> targets). For each candidate block zoom the
blocks are assigned exactly as `split_blocks` would, the samples of each size counted from the index (no decoding),
and the zoom kept that supports the most needed sizes, then has the most test blocks. Isolated tiles (strays with no
indexed neighbour, split.survey_tiles) are left out first, so they cannot move the split. What it cannot support is said
in one line per size, with the numbers and the keys to change; `build_dataset` of that size fails with that line.
"""
from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from rockzoom.data.dataset import plan_samples
from rockzoom.data.split import assign_blocks, complete_groups, survey_tiles, tiles_per_side
from rockzoom.data.store import SPLITS
from rockzoom.data.tiles import TILE_SIZE, TileRecord

logger = logging.getLogger(__name__)

AUTO = "auto"
MIN_TRAIN = 3  # training samples a trained size needs at least (fit_prior fits its GMM to >= 3 training latents)
MAX_LEVELS = 10  # candidate block zooms: tiles.zoom down to tiles.zoom - MAX_LEVELS


@dataclass
class SizeFit:
    """One sample size under one split: what exists, what each split got, what the targets need of it."""
    size: int
    complete: int  # complete samples with valid fraction >= min_valid, before the split and guard band
    counts: dict[str, int]  # samples per split (after the guard band)
    blocks: dict[str, int]  # blocks per split holding at least one of those samples
    needs: dict[str, list[str]] = field(default_factory=dict)  # split -> targets that need it non-empty
    fits_block: bool = True

    @property
    def missing(self) -> list[str]:
        """Needed splits that are empty, and a needed train split smaller than val or MIN_TRAIN (a model would be
        validated on more samples than it learns from: the guard band and held-out blocks took the training data)."""
        c = self.counts
        return [s for s in SPLITS if self.needs.get(s)
                and (not c.get(s) or (s == "train" and c[s] < max(c.get("val", 0), MIN_TRAIN)))]

    @property
    def supported(self) -> bool:
        return not self.missing

    @property
    def targets(self) -> list[str]:
        return sorted({t for s in self.missing for t in self.needs[s]})


@dataclass
class SplitFit:
    zoom: int
    block_zoom: int
    auto: bool
    min_valid: float
    blocks: dict[str, int]  # blocks per split
    sizes: dict[int, SizeFit]
    assignment: dict[tuple[int, int], str] = field(repr=False, default_factory=dict)
    isolated: list[TileRecord] = field(repr=False, default_factory=list)  # left out of the split and the datasets

    @property
    def unsupported(self) -> list[int]:
        return [s for s, f in sorted(self.sizes.items()) if not f.supported]

    def message(self, size: int) -> str:
        """One line: what the tree cannot give this size, the numbers, the targets affected and the keys to change."""
        f = self.sizes[size]
        how = "auto-fitted" if self.auto else "set"
        counts = "/".join(str(f.counts.get(s, 0)) for s in SPLITS)
        blocks = "/".join(str(f.blocks.get(s, 0)) for s in SPLITS)
        fit = "" if f.fits_block else f" ({size} px does not fit in a {self.block_px} px block)"
        return (f"dataset size {size} px: this tile tree has {f.complete} complete {size} px sample(s) with valid "
                f"fraction >= {self.min_valid}; at split.block_zoom={self.block_zoom} ({how}){fit} they split "
                f"{counts} train/val/test across {blocks} blocks, but {', '.join(f.targets)} need "
                f"{' and '.join(_need(f, s) for s in f.missing)}; remove {size} from dataset.sizes and from those targets' settings, "
                f"lower dataset.min_valid, or add tiles (`rockzoom inspect` lists what this tree can run)")

    @property
    def block_px(self) -> int:
        return TILE_SIZE << (self.zoom - self.block_zoom)

    def to_json(self) -> dict:
        return {
            "zoom": self.zoom,
            "block_zoom": self.block_zoom,
            "auto": self.auto,
            "min_valid": self.min_valid,
            "blocks": self.blocks,
            "sizes": {str(s): {**asdict(f), "missing": f.missing, "supported": f.supported,
                               "message": None if f.supported else self.message(s)}
                      for s, f in sorted(self.sizes.items())},
            "unsupported": self.unsupported,
            "isolated_tiles": [{"x": r.x, "y": r.y, "path": r.path} for r in self.isolated],
        }


def _need(f: SizeFit, split: str) -> str:
    if split == "train" and f.counts["train"]:
        return f"a train split at least as large as val and of at least {MIN_TRAIN} samples"
    return f"a {split} sample"


def size_counts(records: list[TileRecord], size: int, zoom: int, block_zoom: int,
                assignment: dict[tuple[int, int], str], guard_tiles: int, min_valid: float) -> SizeFit:
    """Samples of one size per split, from the index alone. Crops smaller than a tile count when their tile's valid
    fraction reaches min_valid (an estimate: build_dataset measures each crop)."""
    n = tiles_per_side(size)
    complete = sum(np.mean([m.valid_fraction for m in members]) >= min_valid
                   for members in complete_groups(records, n).values()) * (TILE_SIZE // size if size < TILE_SIZE else 1) ** 2
    if n > 1 << (zoom - block_zoom):
        return SizeFit(size, int(complete), {s: 0 for s in SPLITS}, {s: 0 for s in SPLITS}, fits_block=False)
    samples, _ = plan_samples(records, size, zoom, block_zoom, assignment, guard_tiles)
    kept = [s for s in samples if np.mean([m.valid_fraction for m in s.members]) >= min_valid]
    counts = {k: sum(s.split == k for s in kept) for k in SPLITS}
    blocks = {k: len({s.block for s in kept if s.split == k}) for k in SPLITS}
    return SizeFit(size, int(complete), counts, blocks)


def fit_split(records: list[TileRecord], *, zoom: int, block_zoom: int | str, sizes: list[int],
              needs: dict[int, dict[str, list[str]]], fractions: dict[str, float], seed: int, min_valid: float,
              guard_tiles: int, stratify: str = "luminance") -> SplitFit:
    """The split for `block_zoom` (an int: that zoom, as set) or the auto-fitted one ("auto"), of the survey's tiles
    (isolated ones are set aside and listed in the result)."""
    sizes = sorted(set(sizes) | set(needs))
    records, isolated = survey_tiles(records)
    if block_zoom != AUTO:
        fit = _try(records, zoom, int(block_zoom), sizes, needs, fractions, seed, min_valid, guard_tiles, stratify,
                   auto=False, strict=True)
        fit.isolated = isolated
        return fit
    fits = [f for bz in range(zoom, max(zoom - MAX_LEVELS, 0) - 1, -1)
            if (f := _try(records, zoom, bz, sizes, needs, fractions, seed, min_valid, guard_tiles, stratify,
                          auto=True, strict=False)) is not None]
    if not fits:
        raise ValueError(
            f"split.block_zoom=auto: no block zoom between {zoom} and {max(zoom - MAX_LEVELS, 0)} gives {len(records)} "
            f"zoom-{zoom} tiles a train, val and test block holding a sample of any of dataset.sizes={sizes} with "
            f"valid fraction >= {min_valid}; add tiles or lower dataset.min_valid"
            + (f" ({len(isolated)} isolated tile(s) without an indexed neighbour were left out)" if isolated else ""))
    best = max(fits, key=lambda f: (len(sizes) - len(f.unsupported), f.blocks["test"], f.block_zoom))
    for f in fits:
        logger.debug(f"block zoom {f.block_zoom}: blocks {f.blocks}, unsupported sizes {f.unsupported}")
    best.isolated = isolated
    return best


def _try(records, zoom, bz, sizes, needs, fractions, seed, min_valid, guard_tiles, stratify, *, auto, strict):
    """The split at block zoom bz with its per-size counts; None (or, strict, the ValueError) when it cannot be made.
    Held-out blocks are drawn first among blocks holding the largest size present; when that leaves a size
    unsupported, drawing them among the blocks of a smaller size is tried too (it can leave the smaller size more
    training blocks), and the first draw that supports the most sizes is kept."""
    block_tiles = 1 << (zoom - bz)
    fitting = [s for s in sizes if tiles_per_side(s) <= block_tiles]
    present = [s for s in fitting if any(np.mean([m.valid_fraction for m in g]) >= min_valid
                                         for g in complete_groups(records, tiles_per_side(s)).values())]
    if not present:
        if strict:
            raise ValueError(f"no dataset size of {sizes} fits a split block at split.block_zoom={bz} and has a "
                             f"complete sample with valid fraction >= {min_valid}")
        return None
    best = None
    for largest in sorted({tiles_per_side(s) * TILE_SIZE if s >= TILE_SIZE else s for s in present}, reverse=True):
        try:
            assignment = assign_blocks(records, zoom, bz, fractions, seed, largest, min_valid, stratify,
                                       sizes=[s for s in present if s <= largest])
        except ValueError:
            if strict and best is None:
                raise
            continue
        fit = SplitFit(zoom, bz, auto, min_valid, {k: sum(v == k for v in assignment.values()) for k in SPLITS}, {},
                       assignment)
        for s in sizes:
            f = size_counts(records, s, zoom, bz, assignment, guard_tiles, min_valid)
            f.needs = {k: list(v) for k, v in needs.get(s, {}).items()}
            fit.sizes[s] = f
        if best is None or len(fit.unsupported) < len(best.unsupported):
            best = fit
        if not best.unsupported:
            break
    return best


def write_fit(fit: SplitFit, path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(fit.to_json(), indent=2))


def check_size_supported(fit_json: str | Path, size: int) -> None:
    """Raise the split's one-line message when `size` lacks a split its targets need (build_dataset's first step)."""
    fit = json.loads(Path(fit_json).read_text())
    entry = fit["sizes"].get(str(size))
    if entry is not None and not entry["supported"]:
        others = [s for s in fit["unsupported"] if s != size]
        also = f" (also unsupported: {', '.join(f'{s} px' for s in others)}; see {fit_json})" if others else ""
        raise ValueError(entry["message"] + also)
