"""A tiny untrained AE (64 px, 512-float latent), its latents and prior, and a texture dataset: the inputs of the
generate and benchmark stages, made in seconds without training."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from texture_data import write_texture_dataset

from rockzoom.autoencoder.latents import extract_latents
from rockzoom.autoencoder.prior import fit_prior
from rockzoom.models.registry import AE_NETS, SR_NETS
from rockzoom.util.checkpoint import model_checkpoint, save_checkpoint

AE_KWARGS = dict(img_size=64, patch_size=8, latent_grid=4, latent_channels=32, coarse_size=8, embed_dim=32, depth=1,
                 heads=2, mlp_ratio=2.0, dec_dim=32, dec_depth=1, dec_heads=2, head_channels=4)
PRIOR = {"pca_dims": 4, "gmm_max_components": 2, "reg_covar": 1e-4}


def make_tiny_pipeline(root: Path) -> dict[str, Path]:
    torch.manual_seed(0)
    data = write_texture_dataset(root / "s64", {"train": 12, "val": 4, "test": 6}, 64, nodata_rows=0)
    write_texture_dataset(root / "s256", {"train": 2, "val": 1, "test": 6}, 256, nodata_rows=8)
    ae = root / "ae" / "model.pt"
    model = AE_NETS.build("vit", **AE_KWARGS)
    save_checkpoint(ae, model_checkpoint(kind="ae", config={}, model_kwargs=AE_KWARGS, state_dict=model.state_dict(),
                                         step=0, best_val=None, data_hash="fixture"))
    latents = root / "latents"
    extract_latents(ae, data, latents, device="cpu")
    prior = root / "prior.pt"
    fit_prior(latents / "train.npy", prior, root / "prior.json", PRIOR, seed=0)
    sr = root / "sr" / "model.pt"
    net_cfg = {"arch": "rlfn", "n_blocks": 1, "n_feats": 8}
    net = SR_NETS.from_config(net_cfg, scale=4)
    save_checkpoint(sr, model_checkpoint(kind="sr", config={}, model_kwargs={**net_cfg, "scale": 4},
                                         state_dict=net.state_dict(), step=0, best_val=None, data_hash="fixture"))
    (root / "manifest.json").write_text(json.dumps({"made_by": "tests/tiny_pipeline.py"}))
    return {"data64": data, "data256": root / "s256", "ae": ae, "latents": latents, "prior": prior, "sr": sr}


def read_pngs(folder: Path) -> list[np.ndarray]:
    from PIL import Image

    return [np.asarray(Image.open(p)) for p in sorted(folder.glob("*.png"))]
