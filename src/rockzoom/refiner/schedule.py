"""Cosine noise schedule (Nichol & Dhariwal 2021), v/eps parameterisation and the DDIM time grid.

Continuous time t in [0, 1]; ``alpha_bar(t) = cos²((t+s)/(1+s)·π/2) / cos²(s/(1+s)·π/2)``, s = 0.008, so
alpha_bar(1) = 0 and sampling starts from pure noise. v = sqrt(ab)·eps - sqrt(1-ab)·x0.
"""
from __future__ import annotations

import math

import torch

PREDICTIONS = ("v", "eps")
COSINE_S = 0.008


def alpha_bar(t: torch.Tensor, s: float = COSINE_S) -> torch.Tensor:
    """Cosine schedule: signal fraction alpha_bar(t) for t in [0, 1] (1 at t=0, exactly 0 at t=1)."""
    t = t.clamp(0.0, 1.0).double()
    f = torch.cos((t + s) / (1 + s) * math.pi / 2) ** 2
    f0 = math.cos(s / (1 + s) * math.pi / 2) ** 2
    return (f / f0).clamp(0.0, 1.0).float()


def _bcast(a: torch.Tensor) -> torch.Tensor:
    return a.reshape(-1, 1, 1, 1)


def q_sample(x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    ab = _bcast(alpha_bar(t).to(x0.device))
    return ab.sqrt() * x0 + (1 - ab).sqrt() * noise


def target_of(x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor, prediction: str) -> torch.Tensor:
    if prediction == "eps":
        return noise
    ab = _bcast(alpha_bar(t).to(x0.device))
    return ab.sqrt() * noise - (1 - ab).sqrt() * x0


def x0_from_prediction(x_t: torch.Tensor, pred: torch.Tensor, t: torch.Tensor, prediction: str) -> torch.Tensor:
    ab = _bcast(alpha_bar(t).to(x_t.device))
    if prediction == "v":
        return ab.sqrt() * x_t - (1 - ab).sqrt() * pred
    return (x_t - (1 - ab).sqrt() * pred) / ab.sqrt().clamp_min(1e-4)


def ddim_times(steps: int) -> list[float]:
    if steps < 1:
        raise ValueError(f"DDIM needs at least 1 step, got {steps}")
    return [1.0 - i / steps for i in range(steps + 1)]
