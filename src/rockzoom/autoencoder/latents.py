"""extract_latents: encode every split of a dataset folder with a trained autoencoder."""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np

from rockzoom.autoencoder.inference import encode_array, load_autoencoder
from rockzoom.data.store import SPLITS, load_split

logger = logging.getLogger(__name__)


def latents_path(out_dir: str | Path, split: str) -> Path:
    return Path(out_dir) / f"{split}.npy"


def extract_latents(model_path: str | Path, data_dir: str | Path, out_dir: str | Path, *, device: str = "auto") -> dict:
    """Writes ``{out_dir}/{split}.npy`` (float32 (N, latent_dim)) for train/val/test and ``summary.json``."""
    model, ckpt = load_autoencoder(model_path, device)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = {"model": str(model_path), "latent_dim": model.latent_dim, "data_hash": ckpt["data_hash"], "splits": {}}
    for split in SPLITS:
        data = load_split(data_dir, split)
        latents = encode_array(model, np.asarray(data.images)).astype(np.float32)
        tmp = out_dir / f".{split}.tmp.npy"
        np.save(tmp, latents)
        os.replace(tmp, latents_path(out_dir, split))
        summary["splits"][split] = {"n": len(latents), "mean_norm": float(np.linalg.norm(latents, axis=1).mean())
                                    if len(latents) else None}
        logger.info(f"{split}: {len(latents)} latents of {model.latent_dim} dims")
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def load_latents(out_dir: str | Path, split: str) -> np.ndarray:
    path = latents_path(out_dir, split)
    if not path.exists():
        raise FileNotFoundError(f"latents missing: {path} (run extract_latents first)")
    latents = np.load(path)
    if latents.ndim != 2:
        raise ValueError(f"{path}: expected (N, latent_dim) latents, got shape {latents.shape}")
    return latents
