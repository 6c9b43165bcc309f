"""Registry of super-resolution architectures: ``build_sr_net(arch, scale, **kwargs)``."""
from __future__ import annotations

from torch import nn

from rockzoom.models.edsr import EDSR
from rockzoom.models.efficient_sr import EfficientSR

SR_ARCHS = {"edsr": EDSR, "efficient": EfficientSR}


def build_sr_net(arch: str, scale: int, **kwargs) -> nn.Module:
    if arch not in SR_ARCHS:
        raise ValueError(f"unknown SR architecture {arch!r}; expected one of {sorted(SR_ARCHS)}")
    return SR_ARCHS[arch](scale=scale, **kwargs)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
