"""The README's overview figure, made from one run of the workflow: real held-out tiles | generated tiles |
a crop of a real tile and the same ground after the learned x4.

Nothing is picked by eye: the real tiles are a seeded draw among the complete (no no-data) test tiles, the
generated ones are the first samples of the option's seeded draw, and the x4 panel upscales the first real tile
shown (its centre crop)."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from rockzoom.superres.upscale import Upscaler, upscale_tiled

logger = logging.getLogger(__name__)

GAP = 8
TITLE_HEIGHT = 40
FONT_SIZE = 22
BACKGROUND = (255, 255, 255)


@dataclass(frozen=True)
class Panel:
    title: str
    image: np.ndarray  # uint8 (H, W, 3)


def pick_real(images: np.ndarray, masks: np.ndarray, n: int, seed: int) -> list[int]:
    """`n` indices, a seeded draw among the complete tiles (every pixel valid); the most complete ones when fewer
    than `n` are complete. Sorted, so the figure does not depend on the draw's order."""
    if len(images) == 0:
        raise ValueError("no real test tiles to show (the test split is empty)")
    valid = masks.reshape(len(masks), -1).mean(axis=1)
    complete = np.flatnonzero(valid == 1.0)
    if len(complete) >= n:
        return sorted(np.random.default_rng(seed).choice(complete, n, replace=False).tolist())
    return sorted(np.argsort(-valid, kind="stable")[:n].tolist())


def grid(images: list[np.ndarray], cell: int, columns: int = 2) -> np.ndarray:
    """Images in a `columns`-wide grid of `cell` px squares (resized only when not already `cell` px)."""
    rows = -(-len(images) // columns)
    canvas = np.full((rows * cell + (rows - 1) * GAP, columns * cell + (columns - 1) * GAP, 3), 255, np.uint8)
    for i, im in enumerate(images):
        if im.shape[:2] != (cell, cell):
            im = np.asarray(Image.fromarray(im).resize((cell, cell), Image.Resampling.LANCZOS))
        y, x = (i // columns) * (cell + GAP), (i % columns) * (cell + GAP)
        canvas[y:y + cell, x:x + cell] = im
    return canvas


def zoom_panels(tile: np.ndarray, upscaler: Upscaler, crop: int) -> tuple[np.ndarray, np.ndarray]:
    """The centre `crop` px of `tile` (the whole tile when smaller) shown with each pixel repeated k times, and the
    same ground in the upscaler's output of the whole tile (so the crop has its real context), both crop*k px."""
    k = upscaler.scale
    h, w = tile.shape[:2]
    crop = min(crop, h, w)
    y0, x0 = (h - crop) // 2, (w - crop) // 2
    up = upscale_tiled(upscaler, tile, out=np.empty((h * k, w * k, 3), np.uint8))
    pixels = tile[y0:y0 + crop, x0:x0 + crop].repeat(k, 0).repeat(k, 1)
    return pixels, up[y0 * k:(y0 + crop) * k, x0 * k:(x0 + crop) * k]


def compose(panels: list[Panel]) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Panels side by side under their titles (a panel narrower than its title is centred in a slot as wide as the
    title); returns the figure and each panel image's (top, left) corner."""
    font = ImageFont.load_default(size=FONT_SIZE)
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    title_w = [int(np.ceil(measure.textlength(p.title, font=font))) for p in panels]
    slots = [max(p.image.shape[1], w) for p, w in zip(panels, title_w)]
    height = max(p.image.shape[0] for p in panels)
    figure = Image.new("RGB", (sum(slots) + GAP * (len(panels) + 1), TITLE_HEIGHT + height + GAP), BACKGROUND)
    draw = ImageDraw.Draw(figure)
    corners, x = [], GAP
    for p, slot, text_w in zip(panels, slots, title_w):
        ph, pw = p.image.shape[:2]
        top, left = TITLE_HEIGHT + (height - ph) // 2, x + (slot - pw) // 2
        figure.paste(Image.fromarray(p.image), (left, top))
        draw.text((x + (slot - text_w) // 2, (TITLE_HEIGHT - FONT_SIZE) // 2), p.title, fill=(0, 0, 0), font=font)
        corners.append((top, left))
        x += slot + GAP
    return np.asarray(figure), corners


def overview_figure(real_images: np.ndarray, real_masks: np.ndarray, generated: list[np.ndarray],
                    upscaler: Upscaler, out_path: str | Path, *, n: int = 4, crop: int = 128, cell: int = 256,
                    seed: int = 0) -> dict:
    """Write the overview figure; returns what it shows (indices, sizes, each panel's corner and size)."""
    if len(generated) < 1:
        raise ValueError("no generated samples to show")
    chosen = pick_real(real_images, real_masks, n, seed)
    real = [np.asarray(real_images[i]) for i in chosen]
    pixels, upscaled = zoom_panels(real[0], upscaler, crop)
    k, crop = upscaler.scale, pixels.shape[0] // upscaler.scale
    panels = [
        Panel(f"real held-out tiles ({real[0].shape[0]} px)", grid(real, cell)),
        Panel(f"generated tiles ({generated[0].shape[0]} px)", grid(list(generated[:n]), cell)),
        Panel(f"a real tile, {crop} px crop", pixels),
        Panel(f"its x{k} (learned SR)", upscaled),
    ]
    figure, corners = compose(panels)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(figure).save(out_path, optimize=True)
    shown = {"real_test_indices": chosen, "generated": min(n, len(generated)), "crop": crop, "scale": k,
             "panels": [{"title": p.title, "top": t, "left": left, "height": p.image.shape[0],
                         "width": p.image.shape[1]} for p, (t, left) in zip(panels, corners)],
             "size": [int(figure.shape[1]), int(figure.shape[0])]}
    logger.info(f"overview figure {out_path}: {figure.shape[1]}x{figure.shape[0]} px; real test tiles {chosen}, "
                f"{shown['generated']} generated, x{k} of a {crop} px crop of test tile {chosen[0]}")
    return shown


def overview_from_run(real_dir: str | Path, samples_dir: str | Path, sr_model: str | Path, out_path: str | Path,
                      *, n: int = 4, crop: int = 128, seed: int = 0, device: str = "auto") -> dict:
    """The figure from a run's files: the test split of `real_dir` (results/data/s{S}), the PNGs of
    `samples_dir` (results/generated/{option}/samples) and a trained SR checkpoint."""
    from rockzoom.data.store import load_split
    from rockzoom.superres.upscale import build_upscaler

    real = load_split(real_dir, "test")
    files = sorted(Path(samples_dir).glob("*.png"))[:n]
    if not files:
        raise FileNotFoundError(f"no generated samples (*.png) in {samples_dir}")
    generated = []
    for f in files:
        with Image.open(f) as im:
            generated.append(np.asarray(im.convert("RGB")))
    upscaler = build_upscaler(checkpoint=sr_model, device=device)
    return overview_figure(real.images, real.masks, generated, upscaler, out_path, n=n, crop=crop,
                           cell=real.size, seed=seed)
