"""What a training stage plugs into the engine: its model, data, loss and validation."""
from __future__ import annotations

from abc import ABC, abstractmethod

import torch
from torch import nn


class TrainTask(ABC):
    kind: str  # checkpoint kind: "ae", "sr", "sr_gan", "refiner", ...
    val_key: str  # key of validate()'s dict that selects the kept model (higher is better)

    @abstractmethod
    def build_model(self) -> nn.Module:
        """A freshly initialised model (the engine seeds torch before calling this)."""

    @abstractmethod
    def model_kwargs(self) -> dict:
        """Plain keyword arguments that rebuild the model from a checkpoint."""

    @abstractmethod
    def sample_batch(self, step: int, generator: torch.Generator, batch_size: int) -> dict[str, torch.Tensor]:
        """The global batch for ``step`` as CPU tensors (first dim = batch), drawn only from ``generator``.

        Draw every random number of a step here (indices, augmentation, noise): the engine seeds ``generator``
        from (seed, step), so resumed and multi-process runs see exactly the same batches. Under DDP each rank
        keeps its own slice of the batch.
        """

    @abstractmethod
    def loss(self, model: nn.Module, batch: dict[str, torch.Tensor], step: int) -> tuple[torch.Tensor, dict[str, float]]:
        """Scalar loss to minimise, plus extra floats to log (batch tensors are already on the model's device)."""

    @abstractmethod
    def validate(self, model: nn.Module) -> dict[str, float]:
        """Validation metrics of ``model`` (called on the EMA weights under eval() and no_grad)."""

    validate_initial: bool = False  # also validate the freshly built model (step 0), e.g. after an analytic init

    def param_groups(self, model: nn.Module) -> list[dict] | None:
        """Optional: AdamW groups as dicts {"params", "lr_scale"(default 1), "weight_decay"(optional)}; the engine
        multiplies the scheduled lr by each group's lr_scale. None: the default (decay on >= 2-D params only)."""
        return None

    def extra_state(self) -> dict:
        """Additional resumable state (e.g. a discriminator and its optimizer); tensors/plain types only."""
        return {}

    def load_extra_state(self, state: dict) -> None:
        if state:
            raise ValueError(f"{type(self).__name__} got extra state {sorted(state)} it does not know how to load")

    def on_train_start(self, model: nn.Module, device: torch.device) -> None:
        """Hook: called once the model is on its device (e.g. to move auxiliary networks there)."""
