"""Exponential moving average of model weights, with the usual warmup of the decay."""
from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    def __init__(self, model: nn.Module, decay: float):
        self.decay = decay
        self.model = copy.deepcopy(model).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)

    def decay_at(self, updates: int) -> float:
        # Early averages would be dominated by the random init; ramp the decay up as (1+t)/(10+t).
        return min(self.decay, (1 + updates) / (10 + updates))

    @torch.no_grad()
    def update(self, model: nn.Module, updates: int) -> None:
        d = self.decay_at(updates)
        ema_state = self.model.state_dict()
        for name, value in model.state_dict().items():
            target = ema_state[name]
            if target.dtype.is_floating_point:
                target.lerp_(value.detach(), 1 - d)
            else:
                target.copy_(value)
