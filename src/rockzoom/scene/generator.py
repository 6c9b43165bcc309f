"""The scene generator: new 256 px tiles and larger scenes made of whole pieces of the training ground.

Fitting (``fit_scene_model``) keeps at most ``max_sources`` windows of ``source_size`` px of the training ground
(``scene.ground``: cut across sample borders, valid fraction at least ``min_valid``, a seeded uniform draw over the
qualifying positions of a ``grid`` px lattice) and measures the survey's sun direction on at most ``sun_images``
wholly valid training tiles (``scene.sun``), which fixes the flips and quarter turns a window may take. Memory is set
by those caps, never by the number of training tiles.

Generating (``generate_scenes``) one image of ``size`` px: a canvas of k x k windows (k = ceil(size / source_size),
distinct windows when there are enough, each under a sun-consistent transform) is the source of the field synthesis
(``scene.field_synthesis``), which reshuffles it coarse-to-fine into new ground of the output's size at the same
pixel size. Sample i of a call depends only on (seed, i).
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from rockzoom.scene import sun as sunlib
from rockzoom.scene.field_synthesis import FieldSettings, synthesize_field
from rockzoom.scene.ground import GroundIndex, pick_windows
from rockzoom.util.checkpoint import save_checkpoint

logger = logging.getLogger(__name__)

MODEL_FORMAT = "rockzoom-scene-model-v1"


@dataclass
class SceneModel:
    """Source windows (uint8 (K, S, S, 3), masks bool (K, S, S), their ground positions (K, 2)), the sun
    ({azimuth, strength, tolerance, transforms: [[k, flip], ...]}) and fit information."""
    windows: np.ndarray
    masks: np.ndarray
    origins: np.ndarray
    sun: dict
    info: dict = field(default_factory=dict)

    @property
    def source_size(self) -> int:
        return int(self.windows.shape[1])

    @property
    def transforms(self) -> list[tuple[int, bool]]:
        return [(int(k), bool(f)) for k, f in self.sun["transforms"]]

    def save(self, path: str | Path) -> None:
        save_checkpoint(path, {"format": MODEL_FORMAT, "windows": torch.from_numpy(np.ascontiguousarray(self.windows)),
                               "masks": torch.from_numpy(np.ascontiguousarray(self.masks)),
                               "origins": torch.from_numpy(np.asarray(self.origins, np.int64)),
                               "sun": dict(self.sun), "info": dict(self.info)})

    @classmethod
    def load(cls, path: str | Path) -> "SceneModel":
        d = torch.load(Path(path), map_location="cpu", weights_only=True)
        if d.get("format") != MODEL_FORMAT:
            raise ValueError(f"{path}: not a scene model file ({d.get('format')!r})")
        return cls(windows=d["windows"].numpy(), masks=d["masks"].numpy(), origins=d["origins"].numpy(),
                   sun=dict(d["sun"]), info=dict(d["info"]))


def fit_scene_model(ground: GroundIndex, *, source_size: int = 512, max_sources: int = 64, min_valid: float = 0.95,
                    grid: int = 32, sun_tolerance: float = 10.0, sun_images: int = 64, seed: int = 0) -> SceneModel:
    """The scene model of a training ground (see the module docstring)."""
    t0 = time.perf_counter()
    positions = pick_windows(ground, source_size, max_sources, min_valid=min_valid, seed=seed, grid=grid)
    if not positions:
        raise ValueError(f"the training ground ({ground.shape[0]}x{ground.shape[1]} px) holds no {source_size} px "
                         f"window with at least {min_valid:.0%} valid pixels; lower scene.source_size or min_valid")
    windows = np.zeros((len(positions), source_size, source_size, 3), np.uint8)
    masks = np.zeros((len(positions), source_size, source_size), bool)
    for i, (y, x) in enumerate(positions):
        windows[i], masks[i] = ground.window(y, x, source_size)
    # the sun from whole training samples (a seeded draw of at most sun_images; only wholly valid ones count)
    n = len(ground.images)
    pick = np.sort(np.random.default_rng(seed).choice(n, min(n, 4 * sun_images), replace=False))
    complete = [i for i in pick if np.asarray(ground.masks[i]).all()][:sun_images]
    if not complete:
        raise ValueError("no wholly valid training sample to measure the sun direction on")
    sun = sunlib.sun_azimuth(np.stack([np.asarray(ground.images[i]) for i in complete]))
    transforms = sunlib.sun_consistent_transforms(sun["azimuth"], sun_tolerance)
    sun.update(tolerance=float(sun_tolerance), transforms=[[k, bool(f)] for k, f in transforms],
               n_images=len(complete))
    info = {"source_size": source_size, "max_sources": max_sources, "min_valid": min_valid, "grid": grid,
            "seed": seed, "n_samples": n, "ground_shape": list(ground.shape), "seconds": time.perf_counter() - t0}
    logger.info("scene model: %d windows of %d px, sun %.0f deg (strength %.2f), transforms %s, %.1f s",
                len(positions), source_size, sun["azimuth"], sun["strength"], transforms, info["seconds"])
    return SceneModel(windows=windows, masks=masks, origins=np.array(positions, np.int64), sun=sun, info=info)


def canvas(model: SceneModel, size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    """The source of one image of ``size`` px: k x k model windows (k = ceil(size / source_size)), distinct while
    there are enough, each under a random sun-consistent transform -> (image, mask, [{window, transform}, ...])."""
    s = model.source_size
    k = max(1, math.ceil(size / s))
    count = len(model.windows)
    picks = rng.choice(count, k * k, replace=k * k > count)
    transforms = model.transforms
    img = np.zeros((k * s, k * s, 3), np.uint8)
    mask = np.zeros((k * s, k * s), bool)
    used = []
    for j, w in enumerate(picks):
        t = transforms[int(rng.integers(len(transforms)))]
        y, x = (j // k) * s, (j % k) * s
        img[y:y + s, x:x + s] = sunlib.apply(model.windows[w], *t)
        mask[y:y + s, x:x + s] = sunlib.apply(model.masks[w], *t)
        used.append({"window": int(w), "origin": [int(v) for v in model.origins[w]], "transform": [t[0], t[1]]})
    return img, mask, used


def generate_scenes(model: SceneModel, n: int, size: int, *, seed: int = 0,
                    settings: FieldSettings = FieldSettings(), return_fields: bool = False):
    """n new uint8 (size, size, 3) images (seeded per sample) -> (images, per-sample records[, fields]).
    A record: the windows of its canvas, the canvas width (to read a field) and the seconds it took."""
    images, records, fields = np.zeros((n, size, size, 3), np.uint8), [], []
    for i in range(n):
        t0 = time.perf_counter()
        rng = np.random.default_rng([int(seed), i])
        src, mask, used = canvas(model, size, rng)
        out, fld = synthesize_field(src, mask, (size, size), settings=settings, seed=int(rng.integers(2**31)),
                                    return_field=True)
        images[i] = out
        records.append({"sources": used, "canvas_width": int(src.shape[1]), "seconds": time.perf_counter() - t0})
        if return_fields:
            fields.append(fld.numpy())
        logger.info("scene %d/%d (%d px) in %.1f s", i + 1, n, size, records[-1]["seconds"])
    return (images, records, fields) if return_fields else (images, records)


def settings_from(config: dict | None) -> FieldSettings:
    """FieldSettings from a config mapping (unknown keys are refused with their names)."""
    config = dict(config or {})
    known = set(asdict(FieldSettings()))
    bad = sorted(set(config) - known)
    if bad:
        raise ValueError(f"unknown scene synthesis settings {bad}; known: {sorted(known)}")
    return FieldSettings(**config)
