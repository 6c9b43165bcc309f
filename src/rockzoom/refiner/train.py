"""Train the refiner on (upscaler(LR), real HR) pairs; resumable through the engine."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from rockzoom.engine import EngineConfig, TrainResult, train
from rockzoom.engine.state import state_dir_for
from rockzoom.refiner.schedule import COSINE_S
from rockzoom.refiner.task import RefinerTask, residual_std
from rockzoom.superres.data import SRPairs
from rockzoom.superres.train import degrade_as_trained, load_pairs, trained_lr_source
from rockzoom.superres.upscale import Upscaler, build_upscaler
from rockzoom.util.checkpoint import load_checkpoint, require_kind
from rockzoom.util.devices import acquire_gpus
from rockzoom.util.hashing import file_sha256

logger = logging.getLogger(__name__)

TRAIN_KEYS = ("patch", "val_images", "val_sample_steps", "engine")


def upscaler_spec(upscaler: str, scale: int, sr_model: str | Path | None) -> dict:
    """build_upscaler arguments for the condition: a classical method name, or 'sr' with a checkpoint."""
    if upscaler in ("bicubic", "lanczos"):
        return {"method": upscaler, "scale": scale}
    if sr_model is None:
        raise ValueError(f"refiner condition {upscaler!r} is an SR net: it needs its checkpoint (sr_model)")
    return {"checkpoint": str(sr_model), "scale": scale}


def upscale_all(upscaler: Upscaler, lr_uint8: np.ndarray) -> np.ndarray:
    """Upscale every LR image once -> uint8 (N, H, W, 3) (the refiner's training condition)."""
    out = [np.rint(upscaler.upscale(im.astype(np.float32) / 255.0) * 255.0).astype(np.uint8) for im in lr_uint8]
    return np.stack(out)


def sr_condition_tag(sr_model: str | Path) -> str:
    """What a refiner trained after the SR checkpoint ``sr_model`` carries in its data hash (its weights' hash)."""
    return f"+sr:{file_sha256(sr_model)[:16]}"


def condition_pairs(data_dir: str | Path, spec: dict, scale: int, val_images: int, seed: int,
                    index_csv: str | Path | None, payload: dict | None = None) -> tuple[SRPairs, SRPairs, str]:
    """(train, val) pairs whose LR is what the condition meets: for an SR net the LR it was trained on (its
    ``lr_source``, blur, noise and JPEG, as its fine-tunes take them), else the antialiased bicubic LR; and the
    training data's hash (the net's weights included). ``payload``: the net's checkpoint, if already loaded."""
    if "checkpoint" not in spec:
        return load_pairs(data_dir, scale, val_images)
    if payload is None:
        payload = load_checkpoint(spec["checkpoint"])
    payload = require_kind(payload, "sr", spec["checkpoint"])
    lr_source = trained_lr_source(payload)
    logger.info(f"the condition {spec['checkpoint']} was trained on LR from {lr_source}: so is the refiner")
    train_pairs, val_pairs, data_hash = load_pairs(data_dir, scale, val_images, lr_source, index_csv)
    train_pairs, val_pairs = degrade_as_trained((train_pairs, val_pairs), payload, seed)
    return train_pairs, val_pairs, data_hash + sr_condition_tag(spec["checkpoint"])


def check_train_config(train_cfg: dict) -> None:
    missing = [k for k in TRAIN_KEYS if k not in train_cfg]
    if missing:
        raise KeyError(f"refiner train config lacks keys {missing} (has {sorted(train_cfg)})")


def train_refiner(data_dir: str | Path, *, model_out: str | Path, metrics_csv: str | Path, curve_png: str | Path,
                  scale: int, upscaler: str, net: dict, prediction: str, train_cfg: dict, seed: int,
                  sr_model: str | Path | None = None, state_dir: str | Path | None = None, gpus: int = 0,
                  index_csv: str | Path | None = None, **engine_kwargs) -> TrainResult:
    """Train the refiner on (``upscaler``(LR), real HR) pairs of ``data_dir``'s train split; select on val.

    ``upscaler``: 'bicubic', 'lanczos', or the name of an SR net whose checkpoint is ``sr_model`` (its LR is the
    kind that net was trained on: ``index_csv``, the tile index, for ``lr_source: pyramid``). The resumable
    state lives in ``state_dir`` (default ``<model_out's folder>.state``), which is not an output.
    """
    check_train_config(train_cfg)
    acquire_gpus(gpus)
    spec = upscaler_spec(upscaler, scale, sr_model)
    payload = load_checkpoint(spec["checkpoint"]) if "checkpoint" in spec else None
    train_pairs, val_pairs, data_hash = condition_pairs(data_dir, spec, scale, train_cfg["val_images"], seed,
                                                        index_csv, payload)
    cond_up = build_upscaler(**spec, payload=payload)
    up = upscale_all(cond_up, train_pairs.lr)
    val_up = upscale_all(cond_up, val_pairs.lr)
    rs = round(residual_std(train_pairs.hr, up, train_pairs.hr_mask), 5)
    logger.info(f"refiner x{scale} after {upscaler}: {len(train_pairs)} train, {len(val_pairs)} val images of "
                f"{train_pairs.hr.shape[1]} px; residual std {rs:.4f}")
    task = RefinerTask(train_pairs.hr, train_pairs.hr_mask, up, val_pairs.hr, val_pairs.hr_mask, val_up, net=net,
                       prediction=prediction, residual_scale=rs, patch=train_cfg["patch"],
                       val_sample_steps=train_cfg["val_sample_steps"], hf_cutoff=0.5 / scale, seed=seed)
    stage_config = {"scale": scale, "upscaler": upscaler, "net": dict(net),
                    "diffusion": {"prediction": prediction, "residual_scale": rs, "schedule": "cosine",
                                  "cosine_s": COSINE_S},
                    "train": json.loads(json.dumps(train_cfg)), "seed": seed}
    cfg = EngineConfig.from_dict({"seed": seed, **train_cfg["engine"]})
    return train(task, cfg, model_out=model_out, state_dir=state_dir or state_dir_for(model_out),
                 metrics_csv=metrics_csv, curve_png=curve_png, stage_config=stage_config, data_hash=data_hash,
                 **engine_kwargs)
