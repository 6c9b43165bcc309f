"""The 8 dihedral transforms of a square (rotations by 90° and mirror images): valid for nadir imagery."""
from __future__ import annotations

import torch


def dihedral(t: torch.Tensor, k: int) -> torch.Tensor:
    """Transform ``k`` in 0..7 over the last two dims: rotate by ``k % 4`` quarter turns, then mirror if ``k >= 4``."""
    out = torch.rot90(t, k % 4, dims=(-2, -1))
    return out.flip(-1) if k >= 4 else out


def random_dihedral(*tensors: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, ...]:
    """Apply one random dihedral transform per sample, the same one to every tensor (e.g. image, mask, LR input).

    Tensors are batched (B, ..., H, W) with square spatial dims; they may differ in size (LR/HR pairs).
    """
    if not tensors:
        return ()
    batch = tensors[0].shape[0]
    for t in tensors:
        if t.shape[0] != batch:
            raise ValueError(f"random_dihedral: batch sizes differ ({t.shape[0]} vs {batch})")
        if t.shape[-1] != t.shape[-2]:
            raise ValueError(f"random_dihedral: needs square images, got {tuple(t.shape)}")
    ks = torch.randint(0, 8, (batch,), generator=generator).tolist()
    outputs = []
    for t in tensors:
        out = torch.empty_like(t)
        for k in set(ks):
            idx = torch.tensor([i for i, kk in enumerate(ks) if kk == k])
            out[idx] = dihedral(t[idx], k)
        outputs.append(out)
    return tuple(outputs)
