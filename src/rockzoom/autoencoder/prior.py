"""Priors over AE latents: a full-covariance Gaussian (Ledoit-Wolf shrinkage, since N can be < latent_dim) and a
Gaussian mixture in a PCA subspace with k chosen by BIC (plus an isotropic-per-dim Gaussian for the residual).

Saved as a checkpoint dict of kind "prior" (plain tensors), loadable with ``weights_only=True``.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import torch
from sklearn.covariance import LedoitWolf
from sklearn.decomposition import PCA
from sklearn.mixture import GaussianMixture

from rockzoom.util.checkpoint import load_checkpoint, save_checkpoint

logger = logging.getLogger(__name__)

PRIOR_KEYS = ("pca_dims", "gmm_max_components", "reg_covar")
OPTIONAL_PRIOR_KEYS = ("min_valid",)


def complete_latents(latents: np.ndarray, masks_path: str | Path | None, min_valid: float) -> np.ndarray:
    """The latents of training tiles whose valid fraction is at least ``min_valid``. A partial tile's no-data is
    stored black and its latent decodes black blocks, so a prior fitted on it (or a slerp/perturb anchored on it)
    would generate no-data as ground. ``masks_path``: the split's masks (N, H, W), in the latents' order."""
    if masks_path is None or min_valid <= 0:
        return latents
    masks = np.load(masks_path, mmap_mode="r")
    if len(masks) != len(latents):
        raise ValueError(f"{masks_path}: {len(masks)} masks for {len(latents)} latents")
    fraction = np.array([np.asarray(m).mean() for m in masks])
    keep = fraction >= min_valid - 1e-9
    if keep.sum() < 3:
        raise ValueError(f"prior.min_valid {min_valid}: only {int(keep.sum())} of {len(latents)} training tiles "
                         f"reach it (at least 3 needed); lower prior.min_valid")
    logger.info("prior: %d of %d training latents (valid fraction >= %g)", keep.sum(), len(latents), min_valid)
    return latents[keep]


def _cholesky(cov: np.ndarray) -> np.ndarray:
    jitter = 1e-6 * float(np.mean(np.diag(cov)) or 1.0)
    return np.linalg.cholesky(cov + jitter * np.eye(len(cov)))


def fit_gaussian(latents: np.ndarray) -> dict:
    lw = LedoitWolf().fit(latents)
    return {"mean": lw.location_, "chol": _cholesky(lw.covariance_), "shrinkage": float(lw.shrinkage_)}


def fit_gmm(latents: np.ndarray, pca_dims: int, max_components: int, reg_covar: float, seed: int) -> dict:
    n, d = latents.shape
    dims = max(1, min(pca_dims, n - 1, d))
    pca = PCA(n_components=dims, random_state=seed).fit(latents)
    coords = pca.transform(latents)
    residual = latents - pca.inverse_transform(coords)
    bics, models = {}, {}
    for k in range(1, max(1, min(max_components, n // 2)) + 1):
        gmm = GaussianMixture(k, covariance_type="full", reg_covar=reg_covar, random_state=seed, n_init=2).fit(coords)
        bics[k], models[k] = float(gmm.bic(coords)), gmm
    best = min(bics, key=bics.get)
    gmm = models[best]
    return {
        "pca_mean": pca.mean_, "pca_components": pca.components_, "explained_variance_ratio": pca.explained_variance_ratio_,
        "weights": gmm.weights_, "means": gmm.means_, "chols": np.stack([_cholesky(c) for c in gmm.covariances_]),
        "residual_std": residual.std(axis=0), "bic": bics, "k": best,
    }


def fit_prior(train_latents_path: str | Path, out_path: str | Path, summary_json: str | Path, prior_cfg: dict,
              seed: int, train_masks_path: str | Path | None = None) -> dict:
    unknown = sorted(set(prior_cfg) - set(PRIOR_KEYS) - set(OPTIONAL_PRIOR_KEYS))
    missing = [k for k in PRIOR_KEYS if k not in prior_cfg]
    if unknown or missing:
        raise ValueError(f"prior config: missing keys {missing}, unknown keys {unknown}")
    latents = np.load(train_latents_path).astype(np.float64)
    if latents.ndim != 2 or len(latents) < 3:
        raise ValueError(f"{train_latents_path}: need at least 3 latents (N, D), got shape {latents.shape}")
    n_all = len(latents)
    latents = complete_latents(latents, train_masks_path, prior_cfg.get("min_valid", 0.0))
    gauss = fit_gaussian(latents)
    gmm = fit_gmm(latents, prior_cfg["pca_dims"], prior_cfg["gmm_max_components"], prior_cfg["reg_covar"], seed)
    t = lambda a: torch.as_tensor(np.asarray(a), dtype=torch.float64)  # noqa: E731
    payload = {
        "kind": "prior", "config": {**prior_cfg, "seed": seed}, "latent_dim": int(latents.shape[1]),
        "n_train": int(len(latents)),
        "gaussian": {"mean": t(gauss["mean"]), "chol": t(gauss["chol"]), "shrinkage": gauss["shrinkage"]},
        "gmm": {k: t(gmm[k]) for k in ("pca_mean", "pca_components", "weights", "means", "chols", "residual_std")},
        "train_latents": t(latents),  # for slerp/perturb samplers and the nearest-neighbour memorisation check
    }
    save_checkpoint(out_path, payload)
    summary = {
        "n_train": len(latents), "n_train_left_out_partial": n_all - len(latents),
        "latent_dim": int(latents.shape[1]), "ledoit_wolf_shrinkage": gauss["shrinkage"],
        "pca_dims": int(len(gmm["pca_components"])),
        "pca_explained_variance": float(np.sum(gmm["explained_variance_ratio"])),
        "gmm_bic": {str(k): v for k, v in gmm["bic"].items()}, "gmm_k": int(gmm["k"]),
    }
    Path(summary_json).write_text(json.dumps(summary, indent=2))
    logger.info(f"prior: Gaussian (shrinkage {gauss['shrinkage']:.3f}); GMM k={gmm['k']} by BIC in "
                f"{summary['pca_dims']} PCA dims ({summary['pca_explained_variance']:.1%} of variance)")
    return summary


def load_prior(path: str | Path) -> dict:
    payload = load_checkpoint(path)
    if payload.get("kind") != "prior":
        raise ValueError(f"{path}: checkpoint kind is {payload.get('kind')!r}, expected 'prior'")
    return payload
