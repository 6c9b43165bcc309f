"""A small regression task for engine tests: learns y = W x + b from a fixed random data set."""
from __future__ import annotations

import torch
from torch import nn

from rockzoom.engine import TrainTask, random_dihedral


class TinyNet(nn.Module):
    def __init__(self, width: int = 16):
        super().__init__()
        self.conv = nn.Conv2d(3, width, 3, padding=1)
        self.head = nn.Conv2d(width, 3, 1)

    def forward(self, x):
        return self.head(torch.relu(self.conv(x)))


class TinyTask(TrainTask):
    kind = "tiny"
    val_key = "val_neg_mse"

    def __init__(self, n: int = 32, size: int = 8, nan_at_step: int | None = None):
        g = torch.Generator().manual_seed(123)
        self.x = torch.rand(n, 3, size, size, generator=g)
        self.y = 0.5 * self.x.flip(1) + 0.25
        self.nan_at_step = nan_at_step

    def build_model(self):
        return TinyNet()

    def model_kwargs(self):
        return {"width": 16}

    def sample_batch(self, step, generator, batch_size):
        idx = torch.randint(0, len(self.x), (batch_size,), generator=generator)
        x, y = random_dihedral(self.x[idx], self.y[idx], generator=generator)
        return {"x": x, "y": y}

    def loss(self, model, batch, step):
        loss = nn.functional.mse_loss(model(batch["x"]), batch["y"])
        if self.nan_at_step is not None and step == self.nan_at_step:
            loss = loss * float("nan")
        return loss, {"mse": float(loss.detach())}

    def validate(self, model):
        with torch.no_grad():
            return {"val_neg_mse": -float(nn.functional.mse_loss(model(self.x), self.y))}
