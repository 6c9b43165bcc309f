"""The SR training stage: an L1/Charbonnier ``TrainTask`` on real mosaic pairs, trained by the shared engine."""
from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path

import numpy as np
import torch
from torch import nn

from rockzoom.data.store import load_summary
from rockzoom.engine import EngineConfig, TrainResult, TrainTask, train
from rockzoom.engine.state import state_dir_for
from rockzoom.metrics.fidelity import evaluate
from rockzoom.models.registry import SR_NETS
from rockzoom.superres.data import SRPairs, load_pairs_split, sample_patches
from rockzoom.superres.degradation import (add_noise, blur_lr, compress_lr, estimate_lr_blur, estimate_lr_jpeg,
                                          jpeg_qualities)
from rockzoom.superres.upscale import ClassicalUpscaler
from rockzoom.util.devices import acquire_gpus

logger = logging.getLogger(__name__)

TRAIN_KEYS = ("lr_patch", "charbonnier_eps", "val_images", "lr_source", "engine")


def masked_charbonnier(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, eps: float) -> torch.Tensor:
    """Mean of sqrt(diff² + eps²) over valid pixels (mask (B,1,H,W), 1 = valid); eps -> 0 is L1."""
    per_pixel = torch.sqrt((pred.float() - target) ** 2 + eps * eps) * mask
    return per_pixel.sum() / (mask.sum() * pred.shape[1]).clamp_min(1.0)


@torch.no_grad()
def upscale_batch(model: nn.Module, lr_uint8: np.ndarray, batch: int = 8) -> np.ndarray:
    """Run ``model`` over uint8 LR images (N,h,w,3) -> float32 [0,1] (N,h*s,w*s,3)."""
    device = next(model.parameters()).device
    outs = []
    for i in range(0, len(lr_uint8), batch):
        x = torch.from_numpy(np.asarray(lr_uint8[i:i + batch])).permute(0, 3, 1, 2).float().div_(255.0).to(device)
        outs.append(model(x).float().clamp_(0, 1).permute(0, 2, 3, 1).cpu().numpy())
    return np.concatenate(outs)


def classical_upscale(pairs: SRPairs, method: str) -> np.ndarray:
    up = ClassicalUpscaler(method, pairs.scale)
    return np.stack([up.upscale(im.astype(np.float32) / 255.0) for im in pairs.lr])


class SRTask(TrainTask):
    kind = "sr"
    val_key = "val_psnr"

    def __init__(self, train_pairs: SRPairs, val_pairs: SRPairs, net: dict, lr_patch: int, charbonnier_eps: float):
        if "arch" not in net:
            raise KeyError(f"SR net config needs an 'arch' key, got {sorted(net)}")
        self.train_pairs, self.val_pairs = train_pairs, val_pairs
        self.scale, self.net, self.lr_patch, self.eps = train_pairs.scale, dict(net), lr_patch, charbonnier_eps
        self._val_bicubic = self._score(classical_upscale(val_pairs, "bicubic"))["psnr_pooled"]

    def build_model(self) -> nn.Module:
        return SR_NETS.from_config(self.net, scale=self.scale)

    def model_kwargs(self) -> dict:
        return {"scale": self.scale, **self.net}

    def sample_batch(self, step, generator, batch_size):
        return sample_patches(self.train_pairs, self.lr_patch, batch_size, generator)

    def loss(self, model, batch, step):
        loss = masked_charbonnier(model(batch["lr"]), batch["hr"], batch["mask"], self.eps)
        return loss, {}

    def _score(self, preds: np.ndarray) -> dict:
        return evaluate(preds, self.val_pairs.hr, self.val_pairs.hr_mask, border=self.scale, with_ssim=False)

    def validate(self, model):
        self.last_val_preds = upscale_batch(model, self.val_pairs.lr)
        scores = self._score(self.last_val_preds)
        return {"val_psnr": scores["psnr_pooled"], "val_psnr_y": scores["psnr_y_pooled"],
                "val_psnr_bicubic": self._val_bicubic}


def check_train_config(train_cfg: dict, keys: tuple[str, ...] = TRAIN_KEYS) -> None:
    missing = [k for k in keys if k not in train_cfg]
    if missing:
        raise KeyError(f"SR train config lacks keys {missing} (has {sorted(train_cfg)})")


def load_pairs(data_dir: str | Path, scale: int, val_images: int, lr_source: str = "bicubic",
               index_csv: str | Path | None = None) -> tuple[SRPairs, SRPairs, str]:
    summary = load_summary(data_dir)
    if "manifest_hash" not in summary:
        raise KeyError(f"{Path(data_dir) / 'summary.json'}: no 'manifest_hash' key")
    kw = {"lr_source": lr_source, "index_csv": index_csv}
    train_pairs = load_pairs_split(data_dir, "train", scale, **kw)
    val_pairs = load_pairs_split(data_dir, "val", scale, limit=val_images, **kw)
    return train_pairs, val_pairs, summary["manifest_hash"]


def complete_pairs(pairs: SRPairs) -> tuple[np.ndarray, np.ndarray]:
    """(HR, LR) of the pairs whose HR is wholly valid (all of them when none is): what the ``auto`` settings read."""
    complete = pairs.hr_mask.all(axis=(1, 2))
    return (pairs.hr[complete], pairs.lr[complete]) if complete.any() else (pairs.hr, pairs.lr)


def resolve_lr_blur(setting, pairs: SRPairs) -> float:
    """``sr.train.lr_blur`` as a sigma: a number as it is; ``auto`` estimated on the complete training pairs
    (``superres.degradation.estimate_lr_blur``: the LR made as soft per pixel as the HR tiles are)."""
    if setting != "auto":
        return float(setting)
    hr, lr = complete_pairs(pairs)
    sigma = estimate_lr_blur(hr, lr)
    logger.info(f"sr.train.lr_blur auto: {sigma:g} LR px (on {len(hr)} training pairs)")
    return sigma


def resolve_lr_jpeg(setting, pairs: SRPairs, lr_blur: float, lr_noise: float, seed: int) -> int:
    """``sr.train.lr_jpeg`` as a quality: a number as it is; ``auto`` estimated on the complete training pairs after
    the blur and noise (``superres.degradation.estimate_lr_jpeg``: the LR given as strong a JPEG block grid as the HR
    tiles have)."""
    if setting != "auto":
        return int(setting)
    hr, lr = complete_pairs(pairs)
    quality = estimate_lr_jpeg(hr, add_noise(blur_lr(lr, lr_blur), lr_noise, seed=seed))
    logger.info(f"sr.train.lr_jpeg auto: quality {quality} (0 = off; on {len(hr)} training pairs)")
    return quality


def trained_lr_source(payload: dict) -> str:
    """The ``sr.train.lr_source`` an SR checkpoint was trained with (``bicubic`` for checkpoints older than the key)."""
    return str(payload.get("config", {}).get("train", {}).get("lr_source", "bicubic"))


def trained_lr_blur(payload: dict) -> float:
    """The ``sr.train.lr_blur`` an SR checkpoint was trained with (0 for checkpoints older than the key)."""
    return float(payload.get("config", {}).get("train", {}).get("lr_blur", 0.0))


def trained_lr_noise(payload: dict) -> float:
    """The ``sr.train.lr_noise`` an SR checkpoint was trained with (0 for checkpoints older than the key)."""
    return float(payload.get("config", {}).get("train", {}).get("lr_noise", 0.0))


def trained_lr_jpeg(payload: dict) -> int:
    """The ``sr.train.lr_jpeg`` quality an SR checkpoint was trained with (0, off, for checkpoints older than the key)."""
    return int(payload.get("config", {}).get("train", {}).get("lr_jpeg", 0))


def degrade_pairs(pairs: tuple[SRPairs, ...], lr_blur: float, lr_noise: float, seed: int,
                  lr_jpeg: int = 0) -> tuple[SRPairs, ...]:
    """Each pair set's LR blurred by ``lr_blur`` LR px, given ``lr_noise`` grey levels of noise, then JPEG-compressed
    at a quality from ``lr_jpeg`` to 100 per image (0: not; noise and qualities seeded per set)."""
    return tuple(dataclasses.replace(p, lr=compress_lr(add_noise(blur_lr(p.lr, lr_blur), lr_noise, seed=seed + i),
                                                       jpeg_qualities(len(p.lr), lr_jpeg, seed + i)))
                 for i, p in enumerate(pairs))


def degrade_as_trained(pairs: tuple[SRPairs, ...], payload: dict, seed: int) -> tuple[SRPairs, ...]:
    """``degrade_pairs`` with the blur, noise and JPEG an SR checkpoint was trained with: the LR its fine-tunes need."""
    return degrade_pairs(pairs, trained_lr_blur(payload), trained_lr_noise(payload), seed, trained_lr_jpeg(payload))


def engine_config(train_cfg: dict, seed: int) -> EngineConfig:
    return EngineConfig.from_dict({"seed": seed, **train_cfg["engine"]})


def train_sr(data_dir: str | Path, *, model_out: str | Path, metrics_csv: str | Path, curve_png: str | Path,
             scale: int, net: dict, train_cfg: dict, seed: int, state_dir: str | Path | None = None, gpus: int = 0,
             index_csv: str | Path | None = None, **engine_kwargs) -> TrainResult:
    """Train an SR net on ``data_dir``'s train split, select it on the val split; writes ``model_out`` (+ csv, png).

    ``state_dir`` (default: ``<model_out's folder>.state``) holds the resumable state; it is not an output.
    ``index_csv``: the tile index, needed when ``train_cfg["lr_source"]`` is ``pyramid``.
    """
    check_train_config(train_cfg)
    acquire_gpus(gpus)  # before anything initialises CUDA
    train_pairs, val_pairs, data_hash = load_pairs(data_dir, scale, train_cfg["val_images"], train_cfg["lr_source"],
                                                   index_csv)
    lr_blur = resolve_lr_blur(train_cfg.get("lr_blur", 0.0), train_pairs)
    lr_noise = float(train_cfg.get("lr_noise", 0.0))
    lr_jpeg = resolve_lr_jpeg(train_cfg.get("lr_jpeg", 0), train_pairs, lr_blur, lr_noise, seed)
    train_pairs, val_pairs = degrade_pairs((train_pairs, val_pairs), lr_blur, lr_noise, seed, lr_jpeg)
    train_cfg = {**train_cfg, "lr_blur": lr_blur, "lr_jpeg": lr_jpeg}  # the checkpoint records the numbers trained with
    logger.info(f"SR x{scale} pairs: {len(train_pairs)} train, {len(val_pairs)} val images of "
                f"{train_pairs.hr.shape[1]} px, LR from {train_cfg['lr_source']}, blurred {lr_blur:g} LR px, "
                f"noise {lr_noise:g} grey levels, JPEG " + (f"quality {lr_jpeg}-100" if lr_jpeg else "off"))
    task = SRTask(train_pairs, val_pairs, net, train_cfg["lr_patch"], train_cfg["charbonnier_eps"])
    stage_config = {"scale": scale, "net": dict(net), "train": json.loads(json.dumps(train_cfg)), "seed": seed}
    return train(task, engine_config(train_cfg, seed), model_out=model_out,
                 state_dir=state_dir or state_dir_for(model_out), metrics_csv=metrics_csv, curve_png=curve_png,
                 stage_config=stage_config, data_hash=data_hash, **engine_kwargs)

