"""Train the autoencoder of one arch config on one dataset folder (``results/data/s{S}``).

Outputs: ``model_out`` (checkpoint kind "ae"), ``metrics.csv`` and ``curve.png`` beside it; resumable state in the
sibling folder ``{model_out.parent}.state/`` (never a declared output). With ``gpus > 1`` (and not already under
torchrun) the same training is relaunched by torchrun on that many locked GPU slots (DDP).
"""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from rockzoom.data.store import load_split, load_summary
from rockzoom.engine.state import state_dir_for
from rockzoom.util.devices import acquire_gpus

logger = logging.getLogger(__name__)

ARCH_KEYS = ("model", "loss", "engine", "val_images")
OPTIONAL_ARCH_KEYS = ("pca_init", "linear_lr_scale")  # defaults: True, 0.1


def check_arch_config(arch_cfg: dict, where: str = "ae arch config") -> None:
    missing = [k for k in ARCH_KEYS if k not in arch_cfg]
    unknown = sorted(set(arch_cfg) - set(ARCH_KEYS) - set(OPTIONAL_ARCH_KEYS))
    if missing or unknown:
        raise ValueError(f"{where}: missing keys {missing}, unknown keys {unknown} (expected {list(ARCH_KEYS)})")


def train_autoencoder(data_dir: str | Path, model_out: str | Path, arch_cfg: dict, seed: int, *, gpus: int = 0,
                      progress: bool | None = None):
    """Train (or resume) and write ``model_out``, ``metrics.csv``, ``curve.png``; returns the engine's TrainResult."""
    check_arch_config(arch_cfg)
    model_out = Path(model_out)
    under_torchrun = int(os.environ.get("WORLD_SIZE", "1")) > 1
    if not under_torchrun:
        acquire_gpus(gpus)  # before anything initialises CUDA
    if gpus > 1 and not under_torchrun:
        return _launch_ddp(data_dir, model_out, arch_cfg, seed, gpus)

    from rockzoom.autoencoder.task import AutoencoderTask
    from rockzoom.engine import EngineConfig, train

    engine_cfg = EngineConfig.from_dict({**arch_cfg["engine"], "seed": seed})
    task = AutoencoderTask(load_split(data_dir, "train"), load_split(data_dir, "val"), arch_cfg["model"],
                           arch_cfg["loss"], arch_cfg["val_images"], pca_init=arch_cfg.get("pca_init", True),
                           linear_lr_scale=arch_cfg.get("linear_lr_scale", 0.1))
    return train(
        task, engine_cfg, model_out=model_out, state_dir=state_dir_for(model_out),
        metrics_csv=model_out.parent / "metrics.csv", curve_png=model_out.parent / "curve.png",
        stage_config={**arch_cfg, "seed": seed}, data_hash=load_summary(data_dir)["manifest_hash"],
        progress=progress,
    )


def _launch_ddp(data_dir, model_out: Path, arch_cfg: dict, seed: int, gpus: int):
    spec = state_dir_for(model_out).with_name(model_out.parent.name + ".launch.json")
    spec.parent.mkdir(parents=True, exist_ok=True)
    spec.write_text(json.dumps({"seed": seed, "arch": arch_cfg}))
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={gpus}",
           "-m", "rockzoom", "train-ae", "--data-dir", str(data_dir), "--model-out", str(model_out),
           "--arch-json", str(spec), "--no-progress"]
    logger.info("launching DDP: " + " ".join(cmd))
    proc = subprocess.run(cmd)
    if proc.returncode != 0:
        raise RuntimeError(f"torchrun training exited with status {proc.returncode}")
    return None
