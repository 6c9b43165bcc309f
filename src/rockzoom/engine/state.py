"""The resumable training state: a folder next to the declared outputs (never declared itself).

``state_dir/state.pt`` (model, EMA, optimizer, step, best, config hash, task extras), ``state_dir/best.pt``
(the best-on-validation EMA checkpoint so far) and ``state_dir/metrics.csv`` (rows up to the saved step).
"""
from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from pathlib import Path

from rockzoom.util.checkpoint import load_checkpoint, save_checkpoint

logger = logging.getLogger(__name__)

STATE_FILE = "state.pt"
BEST_FILE = "best.pt"
METRICS_FILE = "metrics.csv"


def state_dir_for(model_out: str | Path) -> Path:
    """The default state folder of a stage: `<model_out's folder>.state`, beside it and never a declared output."""
    folder = Path(model_out).parent
    return folder.with_name(folder.name + ".state")


def config_hash(kind: str, stage_config: dict, result_settings: dict, data_hash: str) -> str:
    blob = json.dumps(
        {"kind": kind, "stage": stage_config, "engine": result_settings, "data": data_hash}, sort_keys=True, default=str
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def load_resumable(state_dir: Path, expected_hash: str) -> dict | None:
    """The saved state if it was made with the same config; otherwise the folder is moved aside and None returned."""
    path = state_dir / STATE_FILE
    if not path.exists():
        return None
    try:
        state = load_checkpoint(path)
        found = state.get("config_hash")
    except ValueError as exc:
        logger.warning(f"unreadable training state {path} ({exc}); starting fresh")
        found = "unreadable"
        state = None
    if found == expected_hash:
        return state
    aside = state_dir.with_name(f"{state_dir.name}.stale-{found}-{time.strftime('%Y%m%d-%H%M%S')}")
    shutil.move(str(state_dir), aside)
    logger.warning(f"training state in {state_dir} was made with another config (hash {found} != {expected_hash}); "
                   f"moved to {aside}")
    return None


def save_state(state_dir: Path, state: dict) -> None:
    save_checkpoint(state_dir / STATE_FILE, state)
