"""Checkpoint files: one plain dict per file, written atomically, read back with ``weights_only=True``.

A model checkpoint holds ``{format_version, kind, config, model_kwargs, state_dict, step, best_val, data_hash}``.
Only tensors, str, int, float, bool, None, list and dict may appear in a payload, so every file loads under
``torch.load(weights_only=True)`` (no pickled classes, no arbitrary code).
"""
from __future__ import annotations

import os
from pathlib import Path

import torch

FORMAT_VERSION = 1

MODEL_KEYS = ("format_version", "kind", "config", "model_kwargs", "state_dict", "step", "best_val", "data_hash")


def save_checkpoint(path: str | Path, payload: dict) -> None:
    """Write ``payload`` to ``path`` via a temporary file and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format_version": FORMAT_VERSION, **payload}
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        torch.save(payload, tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def load_checkpoint(path: str | Path, map_location="cpu") -> dict:
    """Load a checkpoint dict; refuses pickled objects and files from a newer format."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises several types for corrupt or unsafe files
        raise ValueError(f"{path}: not a loadable checkpoint ({exc})") from exc
    if not isinstance(payload, dict) or "format_version" not in payload:
        raise ValueError(f"{path}: not a rockzoom checkpoint (no format_version)")
    if payload["format_version"] > FORMAT_VERSION:
        raise ValueError(f"{path}: format_version {payload['format_version']} is newer than {FORMAT_VERSION}")
    return payload


def model_checkpoint(
    *, kind: str, config: dict, model_kwargs: dict, state_dict: dict, step: int, best_val, data_hash: str
) -> dict:
    """Assemble the model-checkpoint dict (plain tensors, detached, on CPU)."""
    return {
        "kind": kind,
        "config": config,
        "model_kwargs": model_kwargs,
        "state_dict": {k: v.detach().cpu().clone() for k, v in state_dict.items()},
        "step": int(step),
        "best_val": None if best_val is None else float(best_val),
        "data_hash": data_hash,
    }


def require_kind(payload: dict, kind: str, path: str | Path = "<checkpoint>") -> dict:
    missing = [k for k in MODEL_KEYS if k not in payload]
    if missing:
        raise ValueError(f"{path}: checkpoint lacks keys {missing}")
    if payload["kind"] != kind:
        raise ValueError(f"{path}: checkpoint kind is {payload['kind']!r}, expected {kind!r}")
    return payload
