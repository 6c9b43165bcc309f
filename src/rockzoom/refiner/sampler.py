"""Few-step DDIM sampling of the residual: global sampler state (one noise field per image), the network run
patch-wise; the predicted x0 is clipped to the residuals that keep ``up + r`` inside [0, 1]."""
from __future__ import annotations

import math
import zlib

import numpy as np
import torch
from torch import nn

from rockzoom.refiner.patching import predict_patched
from rockzoom.refiner.schedule import alpha_bar, ddim_times, x0_from_prediction


@torch.no_grad()
def ddim_refine(model: nn.Module, up: torch.Tensor, *, residual_scale: float, prediction: str, steps: int,
                noise: torch.Tensor, eta: float = 0.0, eta_generator: torch.Generator | None = None,
                patch: int = 128, overlap: int = 32, batch: int = 4, bf16: bool = True) -> torch.Tensor:
    """DDIM from t=1 to 0 on the residual; ``up`` (1, 3, H, W) in [0, 1] -> refined (1, 3, H, W) in [0, 1]."""
    device = up.device
    use_bf16 = bf16 and device.type == "cuda"
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if use_bf16 else None
    lo, hi = (0.0 - up) / residual_scale, (1.0 - up) / residual_scale  # x0 range that keeps up + r in [0, 1]
    x = noise.to(device).float()
    times = ddim_times(steps)
    x0 = x
    for t, s in zip(times[:-1], times[1:]):
        tt, ss = torch.tensor([t], device=device), torch.tensor([s], device=device)
        pred = predict_patched(model, x, up, t, patch, overlap, batch, autocast)
        x0 = torch.maximum(torch.minimum(x0_from_prediction(x, pred, tt, prediction), hi), lo)
        ab_t, ab_s = alpha_bar(tt).item(), alpha_bar(ss).item()
        eps = (x - math.sqrt(ab_t) * x0) / math.sqrt(max(1.0 - ab_t, 1e-12))
        sigma = 0.0
        if eta > 0 and ab_t < 1.0:
            sigma = eta * math.sqrt((1 - ab_s) / max(1 - ab_t, 1e-12) * max(1 - ab_t / max(ab_s, 1e-12), 0.0))
        x = math.sqrt(ab_s) * x0 + math.sqrt(max(1 - ab_s - sigma * sigma, 0.0)) * eps
        if sigma > 0:
            x = x + sigma * torch.randn(x.shape, generator=eta_generator).to(device)
    return (up + residual_scale * x0).clamp(0.0, 1.0)


def image_seed(seed: int, image: np.ndarray) -> int:
    """A noise seed from (seed, the image's uint8 pixels): order-independent, different for different images."""
    u8 = np.rint(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)
    return (int(seed) * 1_000_003 + zlib.crc32(u8.tobytes())) % (2**63)
