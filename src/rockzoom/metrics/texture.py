"""Texture distance without downloaded weights: ProGAN's sliced Wasserstein distance on Laplacian-pyramid patches.

After Karras et al. 2018 (``tkarras/progressive_growing_of_gans``, ``metrics/sliced_wasserstein.py``), numpy only:
- each image set is decomposed into a Laplacian pyramid (5-tap binomial filter, mirror borders) with levels down
  to ``min_size`` px (the last level is the low-pass residual);
- at each level, ``patches_per_image`` random 7x7x3 neighbourhoods per image are drawn, on [0,255] pixel values;
  both sets use the same positions (common random numbers, as the sets are paired image by image: identical sets
  score exactly 0, and the sampling noise of small test sets does not swamp the differences; ProGAN draws them
  independently over 16k images);
- each descriptor set is normalised per channel by its own mean and std (``normalise="own"``, ProGAN's choice, the
  default); this hides a loss of contrast (a blurred set is rescaled back up), so ``normalise="reference"`` uses the
  target set's mean and std for both sets, which exposes blur;
- SWD = mean over ``repeats`` of the mean over ``directions`` random unit projections of the mean absolute
  difference of the sorted projections; reported x1e3 per level (finest first) and averaged over levels.

Masks: no-data pixels of ``pred`` are filled from ``target`` (so both sets see the same no-data edges) and only
neighbourhoods whose filter support lies on valid pixels are drawn. Lower is better; 0 = same distribution.
"""
from __future__ import annotations

import copy

import numpy as np
from scipy import ndimage

BINOMIAL = np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0
NHOOD = 7


def _filter_1d(a: np.ndarray, axis: int, kernel: np.ndarray) -> np.ndarray:
    """Correlation with ``kernel`` along ``axis``, the edges reflected without repeating the edge pixel."""
    return ndimage.correlate1d(a, kernel.astype(a.dtype), axis=axis, mode="mirror")


def _blur(a: np.ndarray, gain: float = 1.0) -> np.ndarray:
    """Separable 5x5 binomial filter over axes (1, 2) of (N, H, W, C)."""
    return _filter_1d(_filter_1d(a, 1, BINOMIAL * gain), 2, BINOMIAL * gain)


def pyr_down(a: np.ndarray) -> np.ndarray:
    return _blur(a)[:, ::2, ::2]


def pyr_up(a: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    up = np.zeros((a.shape[0], shape[0], shape[1], a.shape[3]), a.dtype)
    up[:, ::2, ::2] = a
    return _blur(up, gain=2.0)


def laplacian_pyramid(images: np.ndarray, levels: int) -> list[np.ndarray]:
    """(N, H, W, C) float -> ``levels`` arrays, finest first; the last one is the low-pass residual."""
    pyramid = [images.astype(np.float32)]
    for _ in range(1, levels):
        down = pyr_down(pyramid[-1])
        pyramid[-1] = pyramid[-1] - pyr_up(down, pyramid[-1].shape[1:3])
        pyramid.append(down)
    return pyramid


def _mask_pyramid(masks: np.ndarray, levels: int) -> list[np.ndarray]:
    """Per level: True where a 7x7 neighbourhood's top-left corner may sit (its filter support fully valid)."""
    out, m = [], masks.astype(bool)
    for _ in range(levels):
        # a pixel of a Laplacian level depends on +-2 px (blur) of the level and of the level above: erode by 3
        bad = ~m
        grown = bad.copy()
        for d in range(1, 4):
            grown[:, d:] |= bad[:, :-d]
            grown[:, :-d] |= bad[:, d:]
            grown[:, :, d:] |= bad[:, :, :-d]
            grown[:, :, :-d] |= bad[:, :, d:]
        ok = ~grown
        h, w = ok.shape[1:]
        corner = np.ones((ok.shape[0], h - NHOOD + 1, w - NHOOD + 1), bool)
        for dy in range(NHOOD):
            for dx in range(NHOOD):
                corner &= ok[:, dy:dy + h - NHOOD + 1, dx:dx + w - NHOOD + 1]
        out.append(corner)
        hh, ww = (m.shape[1] + 1) // 2, (m.shape[2] + 1) // 2
        m = np.pad(m, ((0, 0), (0, hh * 2 - m.shape[1]), (0, ww * 2 - m.shape[2])))
        m = m.reshape(m.shape[0], hh, 2, ww, 2).all(axis=(2, 4))
    return out


def _descriptors(level: np.ndarray, corners: np.ndarray | None, per_image: int, rng: np.random.Generator) -> np.ndarray:
    n, h, w, c = level.shape
    rows = []
    for i in range(n):
        if corners is None:
            ys = rng.integers(0, h - NHOOD + 1, per_image)
            xs = rng.integers(0, w - NHOOD + 1, per_image)
        else:
            valid = np.flatnonzero(corners[i])
            if len(valid) == 0:
                continue
            pick = valid[rng.integers(0, len(valid), per_image)]
            ys, xs = np.unravel_index(pick, corners[i].shape)
        patches = np.stack([level[i, y:y + NHOOD, x:x + NHOOD] for y, x in zip(ys, xs)])  # (P, 7, 7, C)
        rows.append(patches)
    if not rows:
        return np.empty((0, NHOOD, NHOOD, c))
    return np.concatenate(rows).astype(np.float64)  # (P, 7, 7, C), not normalised


def _normalised(desc: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """(P, 7, 7, C) descriptors -> (P, 7*7*C), normalised per channel by ``reference``'s mean and std."""
    mean = reference.mean(axis=(0, 1, 2), keepdims=True)
    std = (reference - mean).std(axis=(0, 1, 2), keepdims=True)  # of the centred set, as before (same floats)
    out = desc - mean
    out /= std + 1e-12
    return out.reshape(len(out), -1)


def sliced_wasserstein(a: np.ndarray, b: np.ndarray, repeats: int, directions: int, rng: np.random.Generator) -> float:
    n = min(len(a), len(b))
    a, b = a[:n], b[:n]
    results = []
    for _ in range(repeats):
        dirs = rng.standard_normal((a.shape[1], directions))
        dirs /= np.sqrt(np.sum(dirs * dirs, axis=0, keepdims=True))
        pa, pb = np.sort(a @ dirs, axis=0), np.sort(b @ dirs, axis=0)
        results.append(float(np.mean(np.abs(pa - pb))))
    return float(np.mean(results))


def _batch(images) -> np.ndarray:
    """An image or a set -> an (N, H, W, C) array (no copy)."""
    images = np.asarray(images)
    return images[None] if images.ndim == 3 else images


def _as_float255(images: np.ndarray) -> np.ndarray:
    images = _batch(images)
    if images.dtype == np.uint8:
        return images.astype(np.float32)
    return images.astype(np.float32) * 255.0


def swd(pred, target, mask=None, *, min_size: int = 16, patches_per_image: int = 128, repeats: int = 4,
        directions: int = 128, seed: int = 0, normalise: str = "own") -> dict:
    """ProGAN SWD between two image sets of equal size -> {"swd_levels": [x1e3 per level], "swd": their mean}.

    ``normalise``: "own" (each set by its own statistics, ProGAN) or "reference" (both by ``target``'s).
    The pyramids are built one image at a time (memory: one image's pyramid and the descriptors, not the sets')."""
    return swd_normalised(pred, target, mask, min_size=min_size, patches_per_image=patches_per_image,
                          repeats=repeats, directions=directions, seed=seed, normalise=(normalise,))[normalise]


def swd_normalised(pred, target, mask=None, *, min_size: int = 16, patches_per_image: int = 128, repeats: int = 4,
                   directions: int = 128, seed: int = 0, normalise=("own", "reference")) -> dict:
    """``swd`` under each normalisation in ``normalise`` from one pass over the images -> {normalisation: result}
    (each the number ``swd`` gives alone)."""
    if not normalise or set(normalise) - {"own", "reference"}:
        raise ValueError(f"normalise must name 'own' and/or 'reference', not {normalise!r}")
    p, t = _batch(pred), _batch(target)
    if p.shape != t.shape or p.shape[-1] != 3:
        raise ValueError(f"pred {p.shape} and target {t.shape} must be equal (N, H, W, 3) sets")
    size = min(p.shape[1:3])
    if size < max(min_size, NHOOD):
        raise ValueError(f"images of {size} px are smaller than min_size {min_size}")
    levels = 1
    while size // 2 ** levels >= min_size:
        levels += 1
    corners = None
    if mask is not None:
        mask = np.asarray(mask, bool)
        if mask.ndim == 2:
            mask = mask[None]
        if mask.shape != t.shape[:3]:
            raise ValueError(f"mask {mask.shape} does not match images {t.shape[:3]}")
        corners = _mask_pyramid(mask, levels)
    # Per level: the seed of the patch positions (the same in both sets, see the module docstring) and the state the
    # projections start from, drawn in the order of one pass over the levels (each level's projections follow its
    # seed), so that building the pyramids image by image gives the numbers of the whole-set pass.
    rng = np.random.default_rng(seed)
    n_desc = [len(p) * patches_per_image if corners is None else
              int(sum(bool(c.any()) for c in corners[lvl])) * patches_per_image for lvl in range(levels)]
    seeds, states = [], []
    for lvl in range(levels):
        seeds.append(int(rng.integers(2**62)))
        states.append(copy.deepcopy(rng.bit_generator.state))
        if n_desc[lvl] > 1:
            for _ in range(repeats):  # what sliced_wasserstein draws
                rng.standard_normal((NHOOD * NHOOD * p.shape[-1], directions))
    draws_p = [np.random.default_rng(s) for s in seeds]
    draws_t = [np.random.default_rng(s) for s in seeds]
    desc_p, desc_t = [[] for _ in range(levels)], [[] for _ in range(levels)]
    for i in range(len(p)):
        pi, ti = _as_float255(p[i:i + 1]), _as_float255(t[i:i + 1])
        if mask is not None:
            pi = np.where(mask[i:i + 1, ..., None], pi, ti)
        pyr_p, pyr_t = laplacian_pyramid(pi, levels), laplacian_pyramid(ti, levels)
        for lvl in range(levels):
            c = None if corners is None else corners[lvl][i:i + 1]
            desc_p[lvl].append(_descriptors(pyr_p[lvl], c, patches_per_image, draws_p[lvl]))
            desc_t[lvl].append(_descriptors(pyr_t[lvl], c, patches_per_image, draws_t[lvl]))
    desc_p = [np.concatenate(d) for d in desc_p]
    desc_t = [np.concatenate(d) for d in desc_t]
    out = {}
    for how in normalise:
        per_level = []
        for lvl in range(levels):
            dp, dt = desc_p[lvl], desc_t[lvl]
            if min(len(dp), len(dt)) > 1:
                dp, dt = _normalised(dp, dp if how == "own" else dt), _normalised(dt, dt)
                level_rng = np.random.default_rng()
                level_rng.bit_generator.state = copy.deepcopy(states[lvl])
                per_level.append(1e3 * sliced_wasserstein(dp, dt, repeats, directions, level_rng))
            else:
                per_level.append(float("nan"))
        finite = [v for v in per_level if np.isfinite(v)]
        out[how] = {"swd_levels": per_level, "swd": float(np.mean(finite)) if finite else float("nan")}
    return out
