"""Read the AE sections of a rockzoom config file (config/config.yaml, config/gpu.yaml) for the CLI verbs."""
from __future__ import annotations

from pathlib import Path

import yaml


def read_config(path: str | Path) -> dict:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"config file not found: {path}")
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top level")
    return data


def section(config: dict, key: str, path: str | Path) -> dict:
    if key not in config:
        raise KeyError(f"{path}: no '{key}' section")
    return config[key]


def arch_config(config: dict, arch: str | None, path: str | Path) -> tuple[str, dict]:
    """(arch name, its settings) from ``ae.archs``; ``arch`` defaults to ``ae.arch``."""
    ae = section(config, "ae", path)
    name = arch or ae.get("arch")
    archs = ae.get("archs", {})
    if name not in archs:
        raise KeyError(f"{path}: ae.archs has no arch {name!r} (available: {sorted(archs)})")
    return name, archs[name]
