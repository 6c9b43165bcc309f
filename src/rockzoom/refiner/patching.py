"""Patch-wise network evaluation over a whole image: overlapping patches cross-faded with linear ramps that sum to
one, after dropping the outer quarter of each overlap (where a patch sees its own zero padding). The blend is a smooth
function of position, so there are no seams and the result does not depend on the processing order or batch."""
from __future__ import annotations

from contextlib import nullcontext

import torch
import torch.nn.functional as F
from torch import nn


def _starts(length: int, patch: int, overlap: int) -> list[int]:
    if length <= patch:
        return [0]
    stride = patch - overlap
    starts = list(range(0, length - patch, stride))
    return starts + [length - patch]


def _ramp(length: int, start: int, total: int, overlap: int) -> torch.Tensor:
    """1-D blending weight of a patch along one axis.

    At an edge shared with a neighbouring patch the weight is 0 over the outer ``overlap // 4`` px (predictions
    there see the patch's zero padding), then ramps linearly to 1 over the middle half of the overlap; the ramps of
    two neighbours sum to exactly 1. Edges on the image border keep weight 1.
    """
    w = torch.ones(length)
    if overlap <= 0:
        return w
    margin = overlap // 4
    d = torch.arange(length, dtype=torch.float32)
    ramp = ((d + 0.5 - margin) / (overlap - 2 * margin)).clamp(0.0, 1.0)
    if start > 0:
        w = torch.minimum(w, ramp)
    if start + length < total:
        w = torch.minimum(w, ramp.flip(0))
    return w


def _pad_to_multiple(x: torch.Tensor, multiple: int) -> tuple[torch.Tensor, int, int]:
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        x = F.pad(x, (0, pw, 0, ph), mode="replicate")
    return x, h, w


def predict_patched(model: nn.Module, x_t: torch.Tensor, cond: torch.Tensor, t: float, patch: int, overlap: int,
                    batch: int = 4, autocast=None) -> torch.Tensor:
    """The network's prediction for a whole (1, 3, H, W) image, from overlapping ``patch``² windows cross-faded."""
    multiple = getattr(model, "size_multiple", 1)
    if patch % multiple:
        raise ValueError(f"patch {patch} must be a multiple of the net's size multiple {multiple}")
    if not 0 <= overlap < patch:
        raise ValueError(f"overlap must be in [0, patch), got overlap={overlap} patch={patch}")
    autocast = autocast or nullcontext()
    h, w = x_t.shape[-2:]
    x_t, _, _ = _pad_to_multiple(x_t, multiple)
    cond, _, _ = _pad_to_multiple(cond, multiple)
    ph, pw = x_t.shape[-2:]
    patch_h, patch_w = min(patch, ph), min(patch, pw)  # a dimension shorter than the patch runs whole
    windows = [(y, x) for y in _starts(ph, patch_h, overlap) for x in _starts(pw, patch_w, overlap)]
    acc = torch.zeros(1, x_t.shape[1], ph, pw, device=x_t.device)
    norm = torch.zeros(1, 1, ph, pw, device=x_t.device)
    for i in range(0, len(windows), batch):
        chunk = windows[i:i + batch]
        xs = torch.cat([x_t[..., y:y + patch_h, x:x + patch_w] for y, x in chunk])
        cs = torch.cat([cond[..., y:y + patch_h, x:x + patch_w] for y, x in chunk])
        with autocast:
            out = model(xs, cs, torch.full((len(chunk),), t, device=x_t.device)).float()
        for j, (y, x) in enumerate(chunk):
            weight = (_ramp(patch_h, y, ph, overlap)[:, None] * _ramp(patch_w, x, pw, overlap)[None]).to(x_t.device)
            acc[..., y:y + patch_h, x:x + patch_w] += out[j:j + 1] * weight
            norm[..., y:y + patch_h, x:x + patch_w] += weight
    return (acc / norm)[..., :h, :w]
