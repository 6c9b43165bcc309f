"""The scene generator: new 256 px tiles and larger scenes made of whole pieces of the training ground.

Fitting (``fit_scene_model``) keeps windows of the training ground (``scene.ground``: cut across sample borders,
valid fraction at least ``min_valid``, a seeded uniform draw over the qualifying positions of a ``grid`` px lattice)
for each canvas side the output sizes need (``canvas_side``: 512 px windows for 256 px tiles and 512 px scenes,
1024 px windows for 1024 px scenes), ``max_sources`` of ``source_size`` px and proportionally fewer of larger sides;
and it measures the survey's sun direction on at most ``sun_images`` wholly valid training samples (``scene.sun``),
which fixes the flips and quarter turns a window may take. Memory is set by those caps, never by the number of
training tiles.

Generating (``generate_scenes``) one image of ``size`` px: one window of its canvas side, under a random
sun-consistent transform, is the source of the field synthesis (``scene.field_synthesis``), which reshuffles it
coarse-to-fine into new ground of the output's size at the same pixel size (a tile from a crop of a larger window, a
scene from the window's mean colour and noise: ``FieldSettings.init`` "auto"). One window per image: no seam between
unrelated ground, no tile grid. Sample i of a call depends only on (seed, i).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from rockzoom.scene import sun as sunlib
from rockzoom.scene import MODEL_FORMAT
from rockzoom.scene.field_synthesis import synthesize_field
from rockzoom.scene.ground import GroundIndex, pick_windows
from rockzoom.scene.novelty import largest_piece
from rockzoom.scene.settings import FieldSettings, canvas_side, settings_from  # noqa: F401 (re-exported)
from rockzoom.util.checkpoint import save_checkpoint
from rockzoom.util.memory import release_mapped_pages

logger = logging.getLogger(__name__)

TILE = 256  # the size FieldSettings.coarse is given for


@dataclass
class SceneModel:
    """Per canvas side, source windows of the training ground ({"windows": uint8 (K, S, S, 3), "masks": bool
    (K, S, S), "origins": (K, 2)}), the sun ({azimuth, strength, tolerance, transforms: [[k, flip], ...]}) and fit
    information (``source_size`` among it)."""
    sources: dict[int, dict]
    sun: dict
    info: dict = field(default_factory=dict)

    @property
    def source_size(self) -> int:
        return int(self.info["source_size"])

    @property
    def transforms(self) -> list[tuple[int, bool]]:
        return [(int(k), bool(f)) for k, f in self.sun["transforms"]]

    def windows_for(self, size: int) -> dict:
        side = canvas_side(size, self.source_size)
        if side not in self.sources:
            raise ValueError(f"the scene model has no {side} px windows for {size} px images (it was fitted for "
                             f"sizes {self.info.get('sizes')}); add {size} to scene.fit.sizes")
        return self.sources[side]

    def save(self, path: str | Path) -> None:
        sources = {str(side): {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in src.items()}
                   for side, src in self.sources.items()}
        save_checkpoint(path, {"format": MODEL_FORMAT, "sources": sources, "sun": dict(self.sun),
                               "info": dict(self.info)})

    @classmethod
    def load(cls, path: str | Path) -> "SceneModel":
        d = torch.load(Path(path), map_location="cpu", weights_only=True)
        if d.get("format") != MODEL_FORMAT:
            raise ValueError(f"{path}: not a scene model file ({d.get('format')!r})")
        sources = {int(side): {k: v.numpy() for k, v in src.items()} for side, src in d["sources"].items()}
        return cls(sources=sources, sun=dict(d["sun"]), info=dict(d["info"]))


def fit_scene_model(ground: GroundIndex, *, sizes=(256, 512, 1024), source_size: int = 512, max_sources: int = 64,
                    min_valid: float = 0.95, min_valid_large: float = 0.6, spacing: float = 0.25, grid: int = 32,
                    sun_tolerance: float = 10.0, sun_images: int = 64, seed: int = 0) -> SceneModel:
    """The scene model of a training ground (see the module docstring): for each canvas side the ``sizes`` need,
    windows of the ground, ``max_sources`` of ``source_size`` px and proportionally fewer of larger sides (the same
    memory per side, at least 4), at least ``spacing`` x their side apart. Windows larger than ``source_size`` need
    only ``min_valid_large`` valid pixels (held-out blocks leave holes in large windows of a small tree; the
    synthesis never copies from a hole), so they come from all over the ground, not from its one solid corner."""
    t0 = time.perf_counter()
    sources = {}
    for side in sorted({canvas_side(s, source_size) for s in sizes}):
        count = max(4, int(max_sources * (source_size / side) ** 2))
        need = min_valid if side <= source_size else min_valid_large
        positions = pick_windows(ground, side, count, min_valid=need, seed=seed, grid=grid,
                                 spacing=int(spacing * side))
        if not positions:
            raise ValueError(f"the training ground ({ground.shape[0]}x{ground.shape[1]} px) holds no {side} px "
                             f"window with at least {need:.0%} valid pixels; lower scene.fit.min_valid"
                             f"{'' if side <= source_size else '_large'}, or leave the sizes needing it out of "
                             f"scene.fit.sizes")
        windows = np.zeros((len(positions), side, side, 3), np.uint8)
        masks = np.zeros((len(positions), side, side), bool)
        for i, (y, x) in enumerate(positions):
            windows[i], masks[i] = ground.window(y, x, side)
        sources[side] = {"windows": windows, "masks": masks, "origins": np.array(positions, np.int64)}
    # the sun from whole training samples (a seeded draw of at most sun_images; only wholly valid ones count)
    n = len(ground.images)
    pick = np.sort(np.random.default_rng(seed).choice(n, min(n, 4 * sun_images), replace=False))
    complete = [i for i in pick if np.asarray(ground.masks[i]).all()][:sun_images]
    if not complete:
        raise ValueError("no wholly valid training sample to measure the sun direction on")
    sun = sunlib.sun_azimuth(np.stack([np.asarray(ground.images[i]) for i in complete]))
    release_mapped_pages(ground.images, ground.masks)  # the tiles the sun draw read: the fit holds windows only
    transforms = sunlib.sun_consistent_transforms(sun["azimuth"], sun_tolerance)
    sun.update(tolerance=float(sun_tolerance), transforms=[[k, bool(f)] for k, f in transforms],
               n_images=len(complete))
    info = {"sizes": [int(s) for s in sizes], "source_size": int(source_size), "max_sources": int(max_sources),
            "min_valid": float(min_valid), "min_valid_large": float(min_valid_large), "spacing": float(spacing),
            "grid": int(grid), "seed": int(seed), "n_samples": n,
            "ground_shape": list(ground.shape), "windows": {str(k): len(v["windows"]) for k, v in sources.items()},
            "seconds": time.perf_counter() - t0}
    logger.info("scene model: windows %s, sun %.0f deg (strength %.2f), transforms %s, %.1f s", info["windows"],
                sun["azimuth"], sun["strength"], transforms, info["seconds"])
    return SceneModel(sources=sources, sun=sun, info=info)


def canvas(model: SceneModel, size: int, rng: np.random.Generator,
           window: int | None = None) -> tuple[np.ndarray, np.ndarray, dict]:
    """The source of one image of ``size`` px: window ``window`` (None: a random one) of its canvas side under a
    random sun-consistent transform -> (image, mask, {side, window, origin, transform})."""
    src = model.windows_for(size)
    w = int(rng.integers(len(src["windows"]))) if window is None else int(window)
    t = model.transforms[int(rng.integers(len(model.transforms)))]
    used = {"side": int(src["windows"].shape[1]), "window": w, "origin": [int(v) for v in src["origins"][w]],
            "transform": [t[0], t[1]]}
    return sunlib.apply(src["windows"][w], *t), sunlib.apply(src["masks"][w], *t), used


def generate_scenes(model: SceneModel, n: int, size: int, *, seed: int = 0,
                    settings: FieldSettings = FieldSettings(), max_piece: float = 1.0, attempts: int = 1,
                    return_fields: bool = False):
    """n new uint8 (size, size, 3) images (seeded per sample) -> (images, per-sample records[, fields]).
    The coarsest level keeps the same number of pixels whatever the size (``settings.coarse`` is for 256 px), so a
    scene's layout is reshuffled in pieces of the same share of it. A draw whose largest verbatim piece
    (``novelty.largest_piece``: pixels copied together from one place of the source) covers more than ``max_piece``
    of the image is drawn again, up to ``attempts`` draws in all; the draw with the smallest piece is kept. Sample
    i's first draw takes window ``order[i % windows]`` of one seeded permutation, so up to as many samples as there
    are windows start from different ground (drawn independently, 8 samples of 64 windows share one 36% of the time)
    and sample i still does not depend on n; a redraw takes a random window. A record: its source window, the canvas
    width (to read a field), its largest piece's share, the draws and the seconds."""
    st = replace(settings, coarse=min(1.0, settings.coarse * TILE / size))
    n_windows = len(model.windows_for(size)["windows"])
    order = np.random.default_rng([int(seed), n_windows, size]).permutation(n_windows)
    images, records, fields = np.zeros((n, size, size, 3), np.uint8), [], []
    for i in range(n):
        t0 = time.perf_counter()
        rng = np.random.default_rng([int(seed), i])
        best = None
        for draw in range(max(1, int(attempts))):
            src, mask, used = canvas(model, size, rng, window=int(order[i % n_windows]) if draw == 0 else None)
            out, fld = synthesize_field(src, mask, (size, size), settings=st, seed=int(rng.integers(2**31)),
                                        return_field=True)
            share = largest_piece(fld.numpy(), src.shape[1]) / (size * size)
            if best is None or share < best[0]:
                best = (share, out, fld, used, int(src.shape[1]))
            if share <= max_piece:
                break
        share, out, fld, used, width = best
        images[i] = out
        records.append({"source": used, "canvas_width": width, "largest_piece": float(share), "draws": draw + 1,
                        "seconds": time.perf_counter() - t0})
        if return_fields:
            fields.append(fld.numpy())
        logger.info("scene %d/%d (%d px) in %.1f s (%d draws, largest piece %.0f%%)", i + 1, n, size,
                    records[-1]["seconds"], draw + 1, 100 * share)
    return (images, records, fields) if return_fields else (images, records)
