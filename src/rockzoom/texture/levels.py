"""The detail stage's pyramid level sizes (torch-free: the config checks run at every Snakemake start)."""
from __future__ import annotations


def level_shape(shape: tuple[int, int], scale: float) -> tuple[int, int]:
    return max(1, int(round(shape[0] * scale))), max(1, int(round(shape[1] * scale)))


def check_levels(size: int, *, levels: int, factor: float, patch: int, margin: int = 2) -> None:
    """Raise ValueError when the coarsest of ``levels`` levels of ``size`` px images is smaller than a patch with its
    blur margin (it would hold no patch to bank)."""
    coarsest = min(level_shape((size, size), float(factor) ** (levels - 1)))
    reach = patch + 2 * margin
    if coarsest < reach:
        raise ValueError(f"{levels} levels at factor {factor} make the coarsest level of {size} px images "
                         f"{coarsest} px, smaller than a {patch} px patch with its {margin} px margin ({reach} px); "
                         f"lower the levels or raise the factor")
