"""Load a trained autoencoder and run it over uint8 image arrays in batches."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

import rockzoom.models  # noqa: F401  (registers every net)
from rockzoom.autoencoder.task import to_tensor
from rockzoom.engine.distributed import resolve_device
from rockzoom.models.registry import AE_NETS
from rockzoom.models.vit_ae import ViTAutoencoder
from rockzoom.util.checkpoint import load_checkpoint, require_kind


def build_autoencoder(model_kwargs: dict):
    """The model a checkpoint's ``model_kwargs`` describe: ``arch`` "multiscale" -> ``MultiScaleAutoencoder``;
    no ``arch`` (every ViT checkpoint) -> ``ViTAutoencoder``. Both have encode/decode/img_size/latent_dim."""
    kwargs = dict(model_kwargs)
    return AE_NETS.build(kwargs.pop("arch", "vit"), **kwargs)


def load_autoencoder(path: str | Path, device: str = "auto") -> tuple[ViTAutoencoder, dict]:
    ckpt = require_kind(load_checkpoint(path), "ae", path)
    model = build_autoencoder(ckpt["model_kwargs"])
    model.load_state_dict(ckpt["state_dict"])
    return model.to(resolve_device(device)).eval(), ckpt


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """float (N, 3, S, S) -> uint8 (N, S, S, 3), clamped to [0, 1] and rounded."""
    return images.clamp(0, 1).mul(255).round().byte().permute(0, 2, 3, 1).cpu().numpy()


@torch.no_grad()
def encode_array(model: ViTAutoencoder, images: np.ndarray, batch_size: int = 16) -> np.ndarray:
    device = next(model.parameters()).device
    out = [model.encode(to_tensor(images[i : i + batch_size]).to(device)).float().cpu()
           for i in range(0, len(images), batch_size)]
    return torch.cat(out).numpy() if out else np.zeros((0, model.latent_dim), np.float32)


@torch.no_grad()
def decode_array(model: ViTAutoencoder, latents: np.ndarray, batch_size: int = 16) -> np.ndarray:
    """Latents (N, latent_dim) -> uint8 images (N, S, S, 3)."""
    device = next(model.parameters()).device
    chunks = [to_uint8(model.decode(torch.as_tensor(latents[i : i + batch_size], dtype=torch.float32, device=device)))
              for i in range(0, len(latents), batch_size)]
    size = model.img_size
    return np.concatenate(chunks) if chunks else np.zeros((0, size, size, 3), np.uint8)


def reconstruct_array(model: ViTAutoencoder, images: np.ndarray, batch_size: int = 16) -> np.ndarray:
    return decode_array(model, encode_array(model, images, batch_size), batch_size)
