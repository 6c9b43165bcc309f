"""Learning-rate schedule: linear warmup, then cosine decay to ``lr * min_lr_ratio``."""
from __future__ import annotations

import math

from rockzoom.engine.config import EngineConfig


def lr_at(step: int, cfg: EngineConfig) -> float:
    """Learning rate used for optimizer step ``step`` (0-based)."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    decay_steps = max(1, cfg.steps - cfg.warmup_steps - 1)
    progress = min(1.0, (step - cfg.warmup_steps) / decay_steps)
    floor = cfg.lr * cfg.min_lr_ratio
    return floor + (cfg.lr - floor) * 0.5 * (1 + math.cos(math.pi * progress))
