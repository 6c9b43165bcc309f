"""Losses of the perceptual SR fine-tune that need no downloaded weights (``rockzoom.superres.perceptual``).

- ``lr_consistency_loss``: the output box-averaged x k against its LR input (the tree's coarser zoom is an average).
- ``artifact_map`` (LDL, Liang et al. 2022): where the live model is worse than its EMA copy, the local (7 x 7)
  variance of its residual times the residual's global variance ** 0.2; the pixel loss weighted by it suppresses
  GAN artifacts and keeps the texture.
- ``patch_swd``: sliced Wasserstein distance between the distributions of ``patch`` x ``patch`` patches of the output
  and of the real HR image (GPDM): random projections, sorted, L1; per image, at several scales.
- ``RandomGramNet`` / ``gram_loss``: Gram matrices of one seeded random multi-scale conv layer (Ustyuzhaninov et al.
  2016: a single random layer rivals VGG for texture), at full and half resolution.
- ``frequency_loss``: L1 of FFT amplitudes (``rockzoom.superres.gan``);
- ``block_phase_loss``: the period-k grid a pixel-shuffle head can draw (and amplitude losses reward).
Masks: callers pass outputs whose no-data pixels are replaced by the target's, so no loss keys on them.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from rockzoom.superres.gan import frequency_loss

__all__ = ["lr_consistency_loss", "artifact_map", "patch_swd", "RandomGramNet", "gram_loss", "frequency_loss",
           "block_phase_loss"]


def lr_consistency_loss(sr: torch.Tensor, lr: torch.Tensor, scale: int, lr_mask: torch.Tensor | None = None) -> torch.Tensor:
    """Mean |box_average_k(sr) - lr| over valid LR pixels (``lr_mask`` (B,1,h,w), 1 = valid)."""
    diff = (F.avg_pool2d(sr.float(), scale) - lr).abs()
    if lr_mask is None:
        return diff.mean()
    return (diff * lr_mask).sum() / (lr_mask.sum() * sr.shape[1]).clamp_min(1.0)


def block_phase_loss(fake: torch.Tensor, real: torch.Tensor, scale: int) -> torch.Tensor:
    """Mean |phase mean of fake - of real|: the detail within each ``scale`` x ``scale`` block (the pixel minus its
    block mean) averaged over all blocks of an image, per sub-pixel position. A pixel-shuffle head can add the same
    pattern to every block (a grid at period ``scale`` that fools amplitude losses); real ground has none."""
    def phase_mean(x):
        b, c, h, w = x.shape
        blocks = x.reshape(b, c, h // scale, scale, w // scale, scale)
        return (blocks - blocks.mean((3, 5), keepdim=True)).mean((2, 4))
    return (phase_mean(fake) - phase_mean(real)).abs().mean()


def _local_variance(x: torch.Tensor, size: int) -> torch.Tensor:
    """Unbiased variance over each ``size`` x ``size`` window (reflect-padded), (B,1,H,W) -> (B,1,H,W)."""
    pad = size // 2
    xp = F.pad(x, (pad, pad, pad, pad), mode="reflect")
    mean = F.avg_pool2d(xp, size, stride=1)
    mean_sq = F.avg_pool2d(xp * xp, size, stride=1)
    n = size * size
    return ((mean_sq - mean * mean) * n / (n - 1)).clamp_min(0.0)


@torch.no_grad()
def artifact_map(hr: torch.Tensor, sr: torch.Tensor, sr_ema: torch.Tensor, size: int = 7) -> torch.Tensor:
    """LDL's refined artifact map (B,1,H,W): zero where the live output is closer to ``hr`` than the EMA's."""
    residual = (hr - sr).abs().sum(1, keepdim=True)
    residual_ema = (hr - sr_ema).abs().sum(1, keepdim=True)
    patch_weight = residual.var(dim=(1, 2, 3), keepdim=True) ** 0.2
    weight = patch_weight * _local_variance(residual, size)
    return torch.where(residual < residual_ema, torch.zeros_like(weight), weight)


def _patches(x: torch.Tensor, patch: int, max_patches: int, generator: torch.Generator | None) -> torch.Tensor:
    """(B,C,H,W) -> (B, P, C*patch*patch): every patch position, or a random subset of ``max_patches``."""
    cols = F.unfold(x, patch)  # (B, C*p*p, L)
    n = cols.shape[-1]
    if n > max_patches:
        idx = torch.randperm(n, generator=generator, device="cpu")[:max_patches].to(x.device)
        cols = cols[..., idx]
    return cols.transpose(1, 2)


def patch_swd(fake: torch.Tensor, real: torch.Tensor, *, patch: int = 7, projections: int = 64, scales: int = 2,
              max_patches: int = 4096, generator: torch.Generator | None = None) -> torch.Tensor:
    """Per-image sliced Wasserstein-1 distance between the patch distributions of ``fake`` and ``real`` (B,C,H,W),
    averaged over the images and over ``scales`` (each a 2x box average of the one before)."""
    total = fake.new_zeros(())
    for s in range(scales):
        if s:
            fake, real = F.avg_pool2d(fake, 2), F.avg_pool2d(real, 2)
        if min(fake.shape[-2:]) < patch:
            break
        dim = fake.shape[1] * patch * patch
        proj = torch.randn(dim, projections, generator=generator, device="cpu").to(fake)
        proj = proj / proj.norm(dim=0, keepdim=True)
        n = min(max_patches, (fake.shape[-2] - patch + 1) * (fake.shape[-1] - patch + 1))
        # one random subset of positions shared by both images keeps the sorted sets the same size
        pf = _patches(fake, patch, n, generator) @ proj
        pr = _patches(real, patch, n, generator) @ proj
        total = total + (pf.sort(dim=1).values - pr.sort(dim=1).values).abs().mean()
    return total / scales


class RandomGramNet(nn.Module):
    """One seeded random conv layer of several kernel sizes (``filters`` each), ReLU; fixed weights."""

    def __init__(self, seed: int = 1234, kernels: tuple[int, ...] = (3, 5, 7, 11), filters: int = 32):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.convs = nn.ModuleList()
        for k in kernels:
            conv = nn.Conv2d(3, filters, k, padding=k // 2, bias=False)
            with torch.no_grad():
                w = torch.randn(conv.weight.shape, generator=gen)
                w = w - w.mean(dim=(1, 2, 3), keepdim=True)  # zero-mean filters respond to texture, not brightness
                conv.weight.copy_(w / w.flatten(1).norm(dim=1).view(-1, 1, 1, 1))
            self.convs.append(conv)
        self.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [F.relu(conv(x)) for conv in self.convs]


def _gram(features: torch.Tensor) -> torch.Tensor:
    b, c, h, w = features.shape
    f = features.flatten(2)
    return f @ f.transpose(1, 2) / (h * w)


def gram_loss(net: RandomGramNet, fake: torch.Tensor, real: torch.Tensor, scales: int = 2) -> torch.Tensor:
    """Mean L1 between the per-image Gram matrices of ``net``'s features of fake and real, over ``scales``."""
    total, count = fake.new_zeros(()), 0
    x, y = fake * 2 - 1, real * 2 - 1
    for s in range(scales):
        if s:
            x, y = F.avg_pool2d(x, 2), F.avg_pool2d(y, 2)
        for fx, fy in zip(net(x), net(y)):
            total = total + (_gram(fx) - _gram(fy)).abs().mean()
            count += 1
    return total / max(count, 1)


def discriminator_receptive_field(n_down: int) -> int:
    """Receptive field in HR pixels of ``models.discriminator.PatchDiscriminator(n_down=...)``: a 3x3 conv, n_down
    4x4 stride-2 convs, a 3x3 conv."""
    rf, jump = 3, 1
    for _ in range(n_down):
        rf, jump = rf + 3 * jump, jump * 2
    return rf + 2 * jump


def ema_update(target: nn.Module, source: nn.Module, decay: float) -> None:
    """target <- decay * target + (1 - decay) * source (floating-point tensors; others copied)."""
    with torch.no_grad():
        src = source.state_dict()
        for name, value in target.state_dict().items():
            if value.dtype.is_floating_point:
                value.lerp_(src[name].detach(), 1 - decay)
            else:
                value.copy_(src[name])
