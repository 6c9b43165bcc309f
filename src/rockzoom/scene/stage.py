"""The scene generator's steps as the workflow runs them: the model fitted on a dataset's training split (a rule
output), and samples drawn from it; with the memory a job declares, from the settings."""
from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np

from rockzoom.scene.generator import SceneModel, fit_scene_model, generate_scenes, settings_from
from rockzoom.scene.ground import GroundIndex

logger = logging.getLogger(__name__)


def fit_from_dataset(data_dir: str | Path, out_path: str | Path, *, seed: int, **fit) -> SceneModel:
    """Fit on the train split of ``data_dir`` only (held-out ground never enters the model) and save it."""
    model = fit_scene_model(GroundIndex.from_split(data_dir, "train"), seed=seed, **fit)
    model.info.update(source=str(data_dir), split="train")
    model.save(out_path)
    return model


def scene_samples(model_path: str | Path, n: int, size: int, *, seed: int, synthesis: dict | None = None):
    """n seeded samples of ``size`` px from a saved model -> (uint8 (n, size, size, 3), per-sample records)."""
    model = SceneModel.load(model_path)
    return generate_scenes(model, n, size, seed=seed, settings=settings_from(synthesis))


def scene_memory_mb(size: int, fit: dict, synthesis: dict | None = None) -> int:
    """Declared memory (MB) of a job making ``size`` px scenes: the model's windows, the canvas and its finest
    level's feature tables (keys and values, float32), the output's field, candidates and query features, plus
    the Python and torch baseline. Set by the settings, never by the tree."""
    s = settings_from(synthesis)
    source = int(fit.get("source_size", 512))
    windows = int(fit.get("max_sources", 64)) * source * source * 4
    side = max(1, math.ceil(size / source)) * source
    canvas = side * side * (3 * 4 * 3 + 2 * (s.pca_dims + 1) * 4)
    pixels = size * size
    candidates = (2 * s.radius + 1) ** 2 + 4 + s.random_jumps
    output = pixels * (3 * 4 * 4 + s.pca_dims * 4 + 8 * 3) + pixels * candidates * 9
    chunk = s.chunk * candidates * (s.pca_dims + 2) * 4
    return int(math.ceil((windows + canvas + output + chunk) / 2**20)) + 600


def summarise(records: list[dict]) -> dict:
    """What the provenance keeps of the per-sample records."""
    seconds = [r["seconds"] for r in records]
    return {"seconds_per_sample": float(np.mean(seconds)), "seconds_max": float(np.max(seconds)),
            "sources": [r["sources"] for r in records]}
