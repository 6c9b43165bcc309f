"""What a job of the detail stage holds, from its settings alone (never from the number of training tiles): the
workflow declares it as ``resources: mem_mb``. Plain Python (no torch), so the Snakefile can import it.

Calibrated with benchmarks/bench_memory.py (peak RSS of each stage in a fresh process, 100 and 1,000 training
tiles) and the workflow's benchmark files on the demo tree and a 10x one."""
from __future__ import annotations

FLOOR_MB = 450  # python, numpy, torch and rockzoom imported, plus the allocator's slack
QUILT_CANDIDATES = 131072  # synthesize()'s default cap on the quilting step's candidate blocks
COLOUR_FLOATS = 3 * (16 * 16 + 256)  # a colour-reference row: the 16 px coarse view and 256 quantiles per channel
MB = 2**20


def to_mb(nbytes: float) -> int:
    return int(-(-nbytes // MB))


def _bank_bytes(banks: dict) -> int:
    """Keys and values of every level (float32)."""
    return 2 * banks["levels"] * banks["bank_size"] * 3 * banks["patch"] ** 2 * 4


def _source_bytes(banks: dict, size: int) -> int:
    """The stored quilting tiles (RGB + mask) and the colour reference (one row per tile, at most max_tiles)."""
    return banks.get("quilt_tiles", 0) * size * size * 4 + (banks.get("max_tiles") or 0) * COLOUR_FLOATS * 4


def banks_mem_mb(detail: dict, size: int) -> int:
    """``build_patch_banks`` of ``size`` px tiles (``detail``: the config's detail section): the banks three times
    over (draw buffers, their flipped copies, the saved payload), the stored sources, and one tile's pyramid and a
    chunk of 32 tiles in float for the colour reference."""
    banks = detail["banks"]
    return FLOOR_MB + to_mb(3 * _bank_bytes(banks) + _source_bytes(banks, size) + 40 * size * size * 3 * 4)


def detail_mem_mb(detail: dict, size: int) -> int:
    """The detail stage on ``size`` px samples (``add_detail``): the loaded banks and sources, the quilting
    candidates (``synthesis.quilt_candidates``) with their features and the cell grids of the quilting tiles, the
    nearest-patch search (queries in chunks of 512 against a level's bank) and one sample's pyramid."""
    banks, synthesis = detail["banks"], detail.get("synthesis") or {}
    work = _bank_bytes(banks) + _source_bytes(banks, size) + 3 * 512 * banks["bank_size"] * 4
    if synthesis.get("quilt"):
        every = 8 * banks.get("quilt_tiles", 0) * (size // max(1, synthesis["quilt"] // 2)) ** 2  # uncapped
        candidates = synthesis.get("quilt_candidates", QUILT_CANDIDATES) or every
        work += min(candidates, every) * 600 + banks.get("quilt_tiles", 0) * size * size * 3
    work += 16 * size * size * 3 * 4
    return FLOOR_MB + to_mb(work)
