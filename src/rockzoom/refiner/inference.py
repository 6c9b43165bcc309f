"""The trained refiner as a scale-1 ``Upscaler`` (so it chains after any upscaler), and ``RefinedUpscaler``.

The initial noise is seeded from (seed, the input's uint8 pixels): the same image and seed always give the same output,
whatever else was refined before. bf16 autocast for the network on CUDA; the sampler arithmetic stays fp32.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from rockzoom.models.registry import REFINER_NETS
from rockzoom.refiner.sampler import ddim_refine, image_seed
from rockzoom.refiner.schedule import PREDICTIONS
from rockzoom.superres.upscale import Upscaler, pick_device, upscale_tiled
from rockzoom.util.checkpoint import load_checkpoint, require_kind

KIND = "refiner"


class Refiner(Upscaler):
    """A trained refiner as a scale-1 ``Upscaler``: float32 (H, W, 3) [0,1] -> refined image of the same size."""

    def __init__(self, model: nn.Module, *, residual_scale: float, prediction: str, steps: int = 8,
                 eta: float = 0.0, seed: int = 0, patch: int = 128, overlap: int = 32, batch: int = 4,
                 device: str = "auto", name: str = "refine"):
        if prediction not in PREDICTIONS:
            raise ValueError(f"prediction must be one of {PREDICTIONS}, got {prediction!r}")
        self.device = pick_device(device)
        self.model = model.to(self.device).eval()
        self.residual_scale, self.prediction = float(residual_scale), prediction
        self.steps, self.eta, self.seed = int(steps), float(eta), int(seed)
        self.patch, self.overlap, self.batch = int(patch), int(overlap), int(batch)
        self.scale, self.name = 1, f"{name} ({self.steps} steps)"

    @classmethod
    def from_checkpoint(cls, path: str | Path, *, steps: int = 8, eta: float = 0.0, seed: int = 0, patch: int = 128,
                        overlap: int = 32, batch: int = 4, device: str = "auto", name: str | None = None) -> "Refiner":
        return cls.from_payload(load_checkpoint(path), path, steps=steps, eta=eta, seed=seed, patch=patch,
                                overlap=overlap, batch=batch, device=device, name=name)

    @classmethod
    def from_payload(cls, payload: dict, path: str | Path, *, steps: int = 8, eta: float = 0.0, seed: int = 0,
                     patch: int = 128, overlap: int = 32, batch: int = 4, device: str = "auto",
                     name: str | None = None) -> "Refiner":
        """A refiner from an already loaded checkpoint ``payload`` (``path`` names it in errors)."""
        payload = require_kind(payload, KIND, path)
        model = REFINER_NETS.build("unet", **payload["model_kwargs"])
        model.load_state_dict(payload["state_dict"])
        diffusion = payload["config"]["diffusion"]
        return cls(model, residual_scale=diffusion["residual_scale"], prediction=diffusion["prediction"],
                   steps=steps, eta=eta, seed=seed, patch=patch, overlap=overlap, batch=batch, device=device,
                   name=name or "refine")

    def refine(self, image: np.ndarray, seed: int | None = None) -> np.ndarray:
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"image must be (H, W, 3), got {image.shape}")
        image = image.astype(np.float32) / 255.0 if image.dtype == np.uint8 else image.astype(np.float32)
        noise_seed = image_seed(self.seed if seed is None else seed, image)
        gen = torch.Generator().manual_seed(noise_seed)
        noise = torch.randn((1, 3, *image.shape[:2]), generator=gen)
        up = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))[None].to(self.device)
        out = ddim_refine(self.model, up, residual_scale=self.residual_scale, prediction=self.prediction,
                          steps=self.steps, noise=noise, eta=self.eta, eta_generator=gen, patch=self.patch,
                          overlap=self.overlap, batch=self.batch)
        return out[0].permute(1, 2, 0).cpu().numpy()

    def upscale(self, image: np.ndarray) -> np.ndarray:
        return self.refine(image)


class RefinedUpscaler(Upscaler):
    """Any upscaler (run tiled, seam-free) followed by the refiner on the whole upscaled image.

    Call ``upscale`` on the whole image: wrapped in ``upscale_tiled`` each tile would get its own noise field.
    """

    def __init__(self, upscaler: Upscaler, refiner: Refiner, tile: int = 256, overlap: int = 16):
        self.upscaler, self.refiner, self.tile, self.overlap = upscaler, refiner, tile, overlap
        self.scale = upscaler.scale
        self.name = f"{upscaler.name} + {refiner.name}"
        self.device = refiner.device

    def upscale(self, image: np.ndarray) -> np.ndarray:
        up = upscale_tiled(self.upscaler, image, tile=self.tile, overlap=self.overlap) \
            if self.upscaler.scale > 1 else self.upscaler.upscale(image)
        return self.refiner.refine(up)
