"""The scene generator's steps as the workflow runs them: the model fitted on a dataset's training split (a rule
output), and samples drawn from it (their declared memory: ``scene.settings.scene_memory_mb``)."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from rockzoom.scene.generator import SceneModel, fit_scene_model, generate_scenes
from rockzoom.scene.settings import settings_from
from rockzoom.scene.ground import GroundIndex

logger = logging.getLogger(__name__)


def fit_from_dataset(data_dir: str | Path, out_path: str | Path, *, seed: int, **fit) -> SceneModel:
    """Fit on the train split of ``data_dir`` only (held-out ground never enters the model) and save it."""
    model = fit_scene_model(GroundIndex.from_split(data_dir, "train"), seed=seed, **fit)
    model.info.update(source=str(data_dir), split="train")
    model.save(out_path)
    return model


def scene_samples(model_path: str | Path, n: int, size: int, *, seed: int, synthesis: dict | None = None,
                  max_piece: float = 1.0, attempts: int = 1):
    """n seeded samples of ``size`` px from a saved model -> (uint8 (n, size, size, 3), per-sample records); a draw
    copying more than ``max_piece`` of the image in one verbatim piece is redrawn (``generate_scenes``)."""
    model = SceneModel.load(model_path)
    return generate_scenes(model, n, size, seed=seed, settings=settings_from(synthesis), max_piece=max_piece,
                           attempts=attempts)


def write_scene_samples(model_path: str | Path, images_path: str | Path, records_path: str | Path, *, n: int,
                        size: int, seed: int, synthesis: dict | None = None, max_piece: float = 1.0,
                        attempts: int = 1) -> None:
    """The realism table's samples of one size: an .npy of the images and a JSON of the summary and the records."""
    images, records = scene_samples(model_path, n, size, seed=seed, synthesis=synthesis, max_piece=max_piece,
                                    attempts=attempts)
    summary = summarise(records)
    np.save(images_path, images)
    Path(records_path).write_text(json.dumps({"summary": summary, "records": records}, indent=1))
    logger.info("%d scenes of %d px: %.1f s each, largest verbatim piece median %.0f%% max %.0f%%", n, size,
                summary["seconds_per_sample"], 100 * summary["largest_piece_median"],
                100 * summary["largest_piece_max"])


def summarise(records: list[dict]) -> dict:
    """What the provenance keeps of the per-sample records."""
    seconds = [r["seconds"] for r in records]
    pieces = [r["largest_piece"] for r in records]
    return {"seconds_per_sample": float(np.mean(seconds)), "seconds_max": float(np.max(seconds)),
            "largest_piece_median": float(np.median(pieces)), "largest_piece_max": float(np.max(pieces)),
            "draws": [r["draws"] for r in records], "sources": [r["source"] for r in records]}
