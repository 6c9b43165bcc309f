"""Seeded latent samplers and the checks written next to every batch of samples.

Samplers: ``gaussian`` and ``gmm`` draw from the fitted prior; ``slerp`` interpolates (around the latent mean)
between random pairs of training latents at interior points; ``perturb`` adds prior-shaped noise of scale ``sigma``
to random training latents.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np
import torch

from rockzoom.autoencoder import SAMPLERS
from rockzoom.autoencoder.evaluate import save_grid
from rockzoom.autoencoder.inference import decode_array, load_autoencoder
from rockzoom.autoencoder.latents import load_latents
from rockzoom.autoencoder.prior import load_prior

logger = logging.getLogger(__name__)

SAMPLE_KEYS = ("n", "temperature", "perturb_sigma", "flat_std", "grid_columns")


def _gaussian(prior, n, gen, temperature):
    g = prior["gaussian"]
    eps = torch.randn(n, len(g["mean"]), generator=gen, dtype=torch.float64)
    return g["mean"] + temperature * eps @ g["chol"].T


def _gmm(prior, n, gen, temperature):
    g = prior["gmm"]
    comp = torch.multinomial(g["weights"], n, replacement=True, generator=gen)
    eps = torch.randn(n, g["means"].shape[1], generator=gen, dtype=torch.float64)
    coords = g["means"][comp] + temperature * torch.einsum("nij,nj->ni", g["chols"][comp], eps)
    residual = torch.randn(n, len(g["pca_mean"]), generator=gen, dtype=torch.float64) * g["residual_std"]
    return g["pca_mean"] + coords @ g["pca_components"] + temperature * residual


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation of row vectors a -> b at fractions t (falls back to lerp when they are parallel)."""
    an, bn = a / a.norm(dim=1, keepdim=True), b / b.norm(dim=1, keepdim=True)
    omega = torch.arccos((an * bn).sum(1).clamp(-1, 1)).unsqueeze(1)
    t = t.unsqueeze(1)
    so = torch.sin(omega)
    safe = so.abs() > 1e-6
    wa = torch.where(safe, torch.sin((1 - t) * omega) / so.where(safe, torch.ones_like(so)), 1 - t)
    wb = torch.where(safe, torch.sin(t * omega) / so.where(safe, torch.ones_like(so)), t)
    return wa * a + wb * b


def _slerp(prior, n, gen, temperature):
    train = prior["train_latents"]
    mean = train.mean(0)
    i = torch.randint(0, len(train), (n,), generator=gen)
    j = (i + torch.randint(1, len(train), (n,), generator=gen)) % len(train)  # never the same latent twice
    t = 0.25 + 0.5 * torch.rand(n, generator=gen, dtype=torch.float64)  # interior: not a copy of either end
    return mean + slerp(train[i] - mean, train[j] - mean, t)


def _perturb(prior, n, gen, sigma):
    train = prior["train_latents"]
    i = torch.randint(0, len(train), (n,), generator=gen)
    eps = torch.randn(n, train.shape[1], generator=gen, dtype=torch.float64)
    return train[i] + sigma * eps @ prior["gaussian"]["chol"].T


def sample_latents(prior: dict, sampler: str, n: int, seed: int, temperature: float = 1.0,
                   perturb_sigma: float = 0.5) -> np.ndarray:
    if sampler not in SAMPLERS:
        raise ValueError(f"unknown sampler {sampler!r}; expected one of {SAMPLERS}")
    gen = torch.Generator().manual_seed(seed)
    if sampler == "gaussian":
        z = _gaussian(prior, n, gen, temperature)
    elif sampler == "gmm":
        z = _gmm(prior, n, gen, temperature)
    elif sampler == "slerp":
        z = _slerp(prior, n, gen, temperature)
    else:
        z = _perturb(prior, n, gen, perturb_sigma)
    return z.float().numpy()


def nearest_distances(queries: np.ndarray, reference: np.ndarray) -> np.ndarray:
    d = torch.cdist(torch.as_tensor(queries, dtype=torch.float64), torch.as_tensor(reference, dtype=torch.float64))
    return d.min(dim=1).values.numpy()


def leave_one_out_distances(latents: np.ndarray) -> np.ndarray:
    """Each latent's distance to its nearest other latent of the same set."""
    d = torch.cdist(torch.as_tensor(latents, dtype=torch.float64), torch.as_tensor(latents, dtype=torch.float64))
    return d.fill_diagonal_(float("inf")).min(dim=1).values.numpy()


def sample_checks(images: np.ndarray, latents: np.ndarray, train_latents: np.ndarray, test_latents: np.ndarray,
                  flat_std: float) -> dict:
    """Flatness, memorisation and value range. Memorisation: the samples' nearest-train-latent distance against
    that of the held-out test latents (the criterion: ratio >= 1), with the training latents' own leave-one-out
    distance as the in-distribution scale (test blocks may differ from training terrain)."""
    pixel_std = (images.astype(np.float64) / 255.0).reshape(len(images), -1, 3).std(axis=1).mean(axis=1)
    sample_nn = nearest_distances(latents, train_latents)
    test_nn = nearest_distances(test_latents, train_latents) if len(test_latents) else np.array([np.nan])
    train_nn = leave_one_out_distances(train_latents) if len(train_latents) > 1 else np.array([np.nan])
    return {
        "n": int(len(images)),
        "flat_std_threshold": flat_std,
        "flat_fraction": float(np.mean(pixel_std < flat_std)),
        "pixel_std_median": float(np.median(pixel_std)),
        "nn_train_distance_samples_median": float(np.median(sample_nn)),
        "nn_train_distance_test_median": float(np.median(test_nn)),
        "nn_train_distance_train_loo_median": float(np.median(train_nn)),
        "nn_ratio_samples_to_test": float(np.median(sample_nn) / np.median(test_nn)),
        "nn_ratio_samples_to_train_loo": float(np.median(sample_nn) / np.median(train_nn)),
        "closer_than_test_fraction": float(np.mean(sample_nn < np.median(test_nn))),
        "value_min": int(images.min()), "value_max": int(images.max()),
        "value_p01": float(np.percentile(images, 1)), "value_p99": float(np.percentile(images, 99)),
    }


def generate_samples(model_path: str | Path, prior_path: str | Path, latents_dir: str | Path, sampler: str,
                     sample_cfg: dict, seed: int, images_npy: str | Path, grid_png: str | Path,
                     checks_json: str | Path, *, device: str = "auto") -> dict:
    unknown = sorted(set(sample_cfg) - set(SAMPLE_KEYS))
    missing = [k for k in SAMPLE_KEYS if k not in sample_cfg]
    if unknown or missing:
        raise ValueError(f"sample config: missing keys {missing}, unknown keys {unknown}")
    model, _ = load_autoencoder(model_path, device)
    prior = load_prior(prior_path)
    if prior["latent_dim"] != model.latent_dim:
        raise ValueError(f"{prior_path}: prior has {prior['latent_dim']} dims, {model_path} has {model.latent_dim}")
    latents = sample_latents(prior, sampler, sample_cfg["n"], seed, sample_cfg["temperature"],
                             sample_cfg["perturb_sigma"])
    images = decode_array(model, latents)
    images_npy = Path(images_npy)
    images_npy.parent.mkdir(parents=True, exist_ok=True)
    tmp = images_npy.with_name(f".{images_npy.name}.tmp.npy")
    np.save(tmp, images)
    os.replace(tmp, images_npy)
    columns = sample_cfg["grid_columns"]
    rows = [images[r * columns : (r + 1) * columns] for r in range(max(1, len(images) // columns))]
    save_grid(rows, Path(grid_png), columns=columns)
    checks = sample_checks(images, latents, prior["train_latents"].numpy(), load_latents(latents_dir, "test"),
                           sample_cfg["flat_std"])
    report = {"sampler": sampler, "seed": seed, "settings": sample_cfg, "model": str(model_path),
              "prior": str(prior_path), "checks": checks}
    Path(checks_json).write_text(json.dumps(report, indent=2))
    logger.info(f"{sampler}: {len(images)} samples, flat {checks['flat_fraction']:.0%}, nn-train distance ratio "
                f"vs test {checks['nn_ratio_samples_to_test']:.2f} (vs train leave-one-out "
                f"{checks['nn_ratio_samples_to_train_loo']:.2f}), values {checks['value_min']}..{checks['value_max']}")
    return report
