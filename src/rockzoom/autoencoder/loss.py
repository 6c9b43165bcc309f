"""Reconstruction loss over valid pixels only: weighted L1 + MSE (+ SSIM)."""
from __future__ import annotations

import torch
from pytorch_msssim import ssim

LOSS_TERMS = ("l1", "mse", "ssim")


def masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of (N, C, H, W) ``values`` over pixels where the (N, H, W) ``mask`` is True."""
    weight = mask.unsqueeze(1).to(values.dtype).expand_as(values)
    return (values * weight).sum() / weight.sum().clamp_min(1.0)


def reconstruction_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, weights: dict):
    """Returns (loss, {term: value}); no-data pixels contribute nothing (for SSIM they are filled from the target)."""
    unknown = set(weights) - set(LOSS_TERMS)
    if unknown:
        raise ValueError(f"loss weights: unknown terms {sorted(unknown)} (allowed: {LOSS_TERMS})")
    pred = pred.float()
    terms = {}
    if weights.get("l1", 0):
        terms["l1"] = masked_mean((pred - target).abs(), mask)
    if weights.get("mse", 0):
        terms["mse"] = masked_mean((pred - target) ** 2, mask)
    if weights.get("ssim", 0):
        filled = torch.where(mask.unsqueeze(1), pred, target)
        terms["ssim"] = 1 - ssim(filled, target, data_range=1.0, size_average=True)
    if not terms:
        raise ValueError("loss weights: at least one of l1, mse, ssim must be > 0")
    total = sum(weights[k] * v for k, v in terms.items())
    return total, {f"loss_{k}": float(v.detach()) for k, v in terms.items()}
