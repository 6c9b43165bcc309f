"""Engine settings shared by every trainable stage."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

DEVICES = ("auto", "cpu", "cuda")


# The stage-specific keys every engine block must give; the others default to the config layer's engine_defaults
# (rockzoom/config/defaults.yaml, the one place engine defaults are written).
REQUIRED = ("steps", "batch_size", "lr")


@dataclass(frozen=True)
class EngineConfig:
    """No defaults here: ``from_dict`` fills missing optional keys from rockzoom.config.engine_defaults()."""
    steps: int
    batch_size: int  # global: split evenly across DDP ranks
    lr: float
    weight_decay: float
    warmup_steps: int
    min_lr_ratio: float  # cosine decays lr to lr * min_lr_ratio at the last step
    grad_clip: float  # max global grad norm; 0 disables clipping
    ema_decay: float  # 0 disables EMA (the raw weights are validated and kept)
    val_every: int
    save_every: int
    log_every: int
    bf16: bool  # autocast to bfloat16, on CUDA only
    device: str
    seed: int = 0  # from the config's top-level seed

    # Settings that cannot change the trained weights; a resume ignores them when comparing configs.
    NON_RESULT_KEYS = ("val_every", "save_every", "log_every")

    def __post_init__(self):
        checks = {
            "steps": self.steps >= 1,
            "batch_size": self.batch_size >= 1,
            "lr": self.lr > 0,
            "weight_decay": self.weight_decay >= 0,
            "warmup_steps": 0 <= self.warmup_steps,
            "min_lr_ratio": 0 <= self.min_lr_ratio <= 1,
            "grad_clip": self.grad_clip >= 0,
            "ema_decay": 0 <= self.ema_decay < 1,
            "val_every": self.val_every >= 1,
            "save_every": self.save_every >= 1,
            "log_every": self.log_every >= 1,
            "device": self.device in DEVICES,
        }
        bad = [k for k, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"engine config: invalid value for {', '.join(f'{k}={getattr(self, k)!r}' for k in bad)}")

    @classmethod
    def from_dict(cls, d: dict) -> "EngineConfig":
        from rockzoom.config import engine_defaults

        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - set(fields))
        missing = [n for n in REQUIRED if n not in d]
        if unknown or missing:
            parts = []
            if unknown:
                parts.append(f"unknown keys {unknown} (allowed: {sorted(fields)})")
            if missing:
                parts.append(f"missing keys {missing}")
            raise ValueError("engine config: " + "; ".join(parts))
        defaults = {k: v for k, v in engine_defaults().items() if k not in REQUIRED}
        return cls(**{**defaults, **d})

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def result_dict(self) -> dict:
        return {k: v for k, v in self.to_dict().items() if k not in self.NON_RESULT_KEYS}
