"""The autoencoder as an engine TrainTask: random dihedral tiles from the train split, validated on val PSNR."""
from __future__ import annotations

import math

import numpy as np
import torch

from rockzoom.autoencoder.loss import reconstruction_loss
from rockzoom.data.store import SplitArrays
from rockzoom.engine import TrainTask, dihedral, random_dihedral
from rockzoom.models.vit_ae import ViTAutoencoder


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, S, S, 3) -> float32 (N, 3, S, S) in [0, 1]."""
    return torch.from_numpy(np.array(images, dtype=np.uint8)).permute(0, 3, 1, 2).float().div_(255.0)


def model_kwargs_for(model_cfg: dict, img_size: int) -> dict:
    """Resolve the config's model section for one tile size (``token_grid`` -> ``patch_size``)."""
    kwargs = dict(model_cfg)
    token_grid = kwargs.pop("token_grid")
    if img_size % token_grid:
        raise ValueError(f"ae model: img_size {img_size} is not a multiple of token_grid {token_grid}")
    return {"img_size": img_size, "patch_size": img_size // token_grid, **kwargs}


def coarse_pca(train: SplitArrays, model: ViTAutoencoder, max_images: int) -> tuple[torch.Tensor, torch.Tensor]:
    """PCA of the coarse views of (up to ``max_images``) training tiles under all 8 dihedral transforms.

    No-data pixels are filled with the tile's mean valid colour first, so they do not become principal directions.
    """
    pick = np.linspace(0, len(train) - 1, min(len(train), max(1, max_images // 8))).round().astype(int)
    rows = []
    for start in range(0, len(pick), 16):
        idx = pick[start : start + 16]
        images = to_tensor(train.images[idx])
        masks = torch.from_numpy(np.asarray(train.masks[idx])).unsqueeze(1)
        fill = (images * masks).sum((2, 3), keepdim=True) / masks.sum((2, 3), keepdim=True).clamp_min(1)
        images = torch.where(masks, images, fill)
        rows += [model.coarse_view(dihedral(images, k)) for k in range(8)]
    return principal_components(torch.cat(rows), model.latent_dim)


def principal_components(data: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean, top-k orthonormal components as rows) of (n, d) ``data``, via the eigendecomposition of the smaller
    Gram/covariance matrix (a few seconds where a full SVD of 1000 x 3000 takes half a minute on 2 busy cores)."""
    mean = data.mean(0)
    centred = data - mean
    n, d = centred.shape
    k = min(k, n - 1, d)
    if n <= d:
        values, vectors = torch.linalg.eigh(centred @ centred.T)
        values, vectors = values.flip(0)[:k], vectors.flip(1)[:, :k]
        components = (centred.T @ vectors / values.clamp_min(1e-12).sqrt()).T
    else:
        values, vectors = torch.linalg.eigh(centred.T @ centred)
        components = vectors.flip(1)[:, :k].T
    return mean, components.contiguous()


def linear_path_param_groups(model, linear_lr_scale: float) -> list[dict]:
    """The linear PCA path learns slower and without weight decay, so AdamW does not scramble its start."""
    linear = [*model.coarse_encoder.parameters(), *model.to_coarse.parameters()]
    ids = {id(p) for p in linear}
    rest = [p for p in model.parameters() if id(p) not in ids]
    return [{"params": rest}, {"params": linear, "lr_scale": linear_lr_scale, "weight_decay": 0.0}]


def sample_augmented(train: SplitArrays, generator: torch.Generator, batch_size: int) -> dict:
    """A random training batch with a random dihedral transform per image (nadir imagery has no up)."""
    idx = torch.randint(0, len(train), (batch_size,), generator=generator).numpy()
    images = to_tensor(train.images[idx])
    masks = torch.from_numpy(np.asarray(train.masks[idx]))
    images, masks = random_dihedral(images, masks, generator=generator)
    return {"images": images, "masks": masks}


class LinearPathTask(TrainTask):
    """What the ViT and multi-scale AE tasks share: the PCA start of the linear path, its own parameter group, the
    model kwargs. Subclasses set train, pca_init, pca_images, linear_lr_scale and _kwargs."""

    def with_pca_start(self, model):
        if self.pca_init:
            model.init_linear_path(*coarse_pca(self.train, model, self.pca_images))
        return model

    def param_groups(self, model):
        return linear_path_param_groups(model, self.linear_lr_scale)

    def model_kwargs(self):
        return dict(self._kwargs)


class AutoencoderTask(LinearPathTask):
    kind = "ae"
    val_key = "val_psnr"

    def __init__(self, train: SplitArrays, val: SplitArrays, model_cfg: dict, loss_weights: dict,
                 val_images: int = 32, pca_init: bool = True, pca_images: int = 2048,
                 linear_lr_scale: float = 0.1):
        if len(train) == 0 or len(val) == 0:
            raise ValueError(f"autoencoder needs non-empty train and val splits (got {len(train)} / {len(val)})")
        self.train, self.loss_weights = train, dict(loss_weights)
        self.pca_init, self.pca_images, self.linear_lr_scale = pca_init, pca_images, linear_lr_scale
        self.validate_initial = pca_init  # the PCA start is a real model; keep it if training never beats it
        self._kwargs = model_kwargs_for(model_cfg, train.size)
        # A fixed, evenly spaced validation subset keeps validation cheap and identical across runs.
        pick = np.linspace(0, len(val) - 1, min(val_images, len(val))).round().astype(int)
        self.val_images = to_tensor(val.images[pick])
        self.val_masks = torch.from_numpy(np.asarray(val.masks[pick]))

    def build_model(self):
        return self.with_pca_start(ViTAutoencoder(**self._kwargs))

    def sample_batch(self, step, generator, batch_size):
        return sample_augmented(self.train, generator, batch_size)

    def loss(self, model, batch, step):
        pred = model(batch["images"])
        return reconstruction_loss(pred, batch["images"], batch["masks"], self.loss_weights)

    def validate(self, model):
        device = next(model.parameters()).device
        sq_err, count = 0.0, 0.0
        for start in range(0, len(self.val_images), 8):
            images = self.val_images[start : start + 8].to(device)
            masks = self.val_masks[start : start + 8].to(device)
            pred = model(images).float().clamp(0, 1)
            weight = masks.unsqueeze(1).expand_as(pred)
            sq_err += float(((pred - images) ** 2)[weight].sum())
            count += float(weight.sum())
        mse = sq_err / max(count, 1.0)
        return {"val_psnr": 10 * math.log10(1.0 / mse) if mse > 0 else 100.0, "val_mse": mse}
