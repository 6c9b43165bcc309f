"""Are generated scenes new? Distances to the nearest window of the training ground, between samples, and the
largest piece a field-synthesised sample copies verbatim.

- ``nearest_window_distances``: RMS distance (0-255) of each image, in each of its 8 flips/rotations, to the nearest
  fully valid window of the same size of a ground mosaic, windows on a ``grid`` px lattice; computed as one FFT
  cross-correlation per band of ground rows (memory set by ``band``, not by the ground), at 1/``factor`` resolution
  (exact box means; windows on a grid of ``grid`` full-resolution px).
- ``copy_verdict``: the issue's criterion: the share of samples closer to the training ground than the
  ``percentile`` of held-out tiles' distances (5% of real held-out tiles are that close by chance).
- ``pairwise_min_distance``: the smallest RMS distance between two images of a set under the 8 transforms.
- ``largest_piece``: the largest 4-connected set of output pixels whose field keeps one displacement (pixels copied
  together from one place of the source), from ``field_synthesis``'s field.
"""
from __future__ import annotations

import numpy as np
import torch
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

DIHEDRAL = [(k, flip) for flip in (False, True) for k in range(4)]


def dihedral(image: np.ndarray, k: int, flip: bool) -> np.ndarray:
    """(H, W, ...) turned k quarter turns, then mirrored left-right when flip."""
    out = np.rot90(image, k)
    return out[:, ::-1] if flip else out


def box_down(images: np.ndarray, factor: int) -> np.ndarray:
    """float64 exact box means of (..., H, W, C) by ``factor``."""
    if factor == 1:
        return images.astype(np.float64)
    *lead, h, w, c = images.shape
    h2, w2 = h // factor, w // factor
    x = images[..., :h2 * factor, :w2 * factor, :].astype(np.float64)
    return x.reshape(*lead, h2, factor, w2, factor, c).mean((-4, -2))


def nearest_window_distances(images: np.ndarray, ground: np.ndarray, ground_mask: np.ndarray | None = None, *,
                             grid: int = 4, factor: int = 2, band: int = 1024) -> np.ndarray:
    """(N,) RMS distance (0-255) of each uint8 (N, S, S, 3) image to its nearest valid S px window of ``ground``
    (uint8 (H, W, 3), mask bool (H, W)) under the image's 8 flips/rotations; windows every ``grid`` px, compared
    at 1/``factor`` resolution (``grid`` must be a multiple of ``factor``). Rows of the ground go in bands of
    ``band`` px plus the window's overlap."""
    images = np.asarray(images)
    n, s = len(images), images.shape[1]
    if images.shape[1] != images.shape[2]:
        raise ValueError(f"images must be square, got {images.shape[1:3]}")
    if grid % factor or s % factor:
        raise ValueError(f"grid {grid} and size {s} must be multiples of factor {factor}")
    mask = np.ones(ground.shape[:2], bool) if ground_mask is None else np.asarray(ground_mask, bool)
    if ground.shape[0] < s or ground.shape[1] < s:
        raise ValueError(f"the ground {ground.shape[:2]} is smaller than a {s} px window")
    ws, step = s // factor, grid // factor
    queries = [[box_down(dihedral(im, k, f), factor) for k, f in DIHEDRAL] for im in images]
    q2 = np.array([[np.sum(q * q) for q in qs] for qs in queries])
    best = np.full(n, np.inf)
    h = ground.shape[0]
    for y0 in range(0, h - s + 1, band):
        y1 = min(h, y0 + band + s)
        g = torch.from_numpy(box_down(ground[y0:y1], factor))  # (hb, wb, 3)
        m = torch.from_numpy(box_down(mask[y0:y1, :, None], factor)[..., 0] > 1 - 1e-9)
        hb, wb = g.shape[:2]
        # window sums of squares and of validity by integral images
        ii = torch.nn.functional.pad((g * g).sum(-1).cumsum(0).cumsum(1), (1, 0, 1, 0))
        gsq = ii[ws:, ws:] - ii[:-ws, ws:] - ii[ws:, :-ws] + ii[:-ws, :-ws]
        im = torch.nn.functional.pad(m.double().cumsum(0).cumsum(1), (1, 0, 1, 0))
        valid = (im[ws:, ws:] - im[:-ws, ws:] - im[ws:, :-ws] + im[:-ws, :-ws]) > ws * ws - 0.5
        sel = torch.zeros_like(valid)
        sel[::step, ::step] = True
        # grid positions relative to the ground's origin (bands start on the grid: band is a multiple of grid)
        valid &= sel
        if not valid.any():
            continue
        gf = torch.fft.rfft2(g.permute(2, 0, 1), s=(hb, wb))
        for i in range(n):
            for t, q in enumerate(queries[i]):
                qf = torch.fft.rfft2(torch.from_numpy(np.ascontiguousarray(q)).permute(2, 0, 1), s=(hb, wb))
                corr = torch.fft.irfft2((gf * qf.conj()).sum(0), s=(hb, wb))[:hb - ws + 1, :wb - ws + 1]
                d2 = gsq - 2 * corr + q2[i, t]
                d2 = torch.where(valid, d2, torch.full_like(d2, np.inf))
                best[i] = min(best[i], float(d2.min()))
    return np.sqrt(np.maximum(best, 0) / (ws * ws * 3))


def copy_verdict(sample_distances: np.ndarray, heldout_distances: np.ndarray, percentile: float = 5.0) -> dict:
    """The share of samples nearer the training ground than ``percentile`` % of held-out tiles are."""
    threshold = float(np.percentile(heldout_distances, percentile))
    share = float(np.mean(np.asarray(sample_distances) < threshold))
    return {"threshold": threshold, "share_closer": share, "samples_median": float(np.median(sample_distances)),
            "heldout_median": float(np.median(heldout_distances)), "n_samples": len(sample_distances),
            "n_heldout": len(heldout_distances)}


def pairwise_min_distance(images: np.ndarray, factor: int = 2) -> float:
    """The smallest RMS distance (0-255) between two distinct images of the set, over the 8 flips/rotations of
    the second, at 1/``factor`` resolution."""
    images = np.asarray(images)
    base = box_down(images, factor)
    best = np.inf
    for k, f in DIHEDRAL:
        turned = box_down(np.stack([dihedral(im, k, f) for im in images]), factor)
        a = base.reshape(len(images), -1)
        b = turned.reshape(len(images), -1)
        d2 = (a * a).sum(1)[:, None] + (b * b).sum(1)[None] - 2 * a @ b.T
        np.fill_diagonal(d2, np.inf)
        best = min(best, float(d2.min()))
    return float(np.sqrt(max(best, 0) / base[0].size))


def largest_piece(field: np.ndarray, source_width: int) -> int:
    """Pixels in the largest 4-connected region of ``field`` (flat source indices, (H, W)) that keeps one
    displacement: copied together, verbatim, from one place of the source."""
    field = np.asarray(field, np.int64)
    h, w = field.shape
    fy, fx = field // source_width, field % source_width
    dy = fy - np.arange(h)[:, None]
    dx = fx - np.arange(w)[None, :]
    key = dy * (4 * (w + source_width)) + dx  # one integer per displacement
    idx = np.arange(h * w).reshape(h, w)
    right = key[:, 1:] == key[:, :-1]
    down = key[1:, :] == key[:-1, :]
    rows = np.concatenate([idx[:, :-1][right], idx[:-1, :][down]])
    cols = np.concatenate([idx[:, 1:][right], idx[1:, :][down]])
    graph = coo_matrix((np.ones(len(rows), np.int8), (rows, cols)), shape=(h * w, h * w))
    _, labels = connected_components(graph, directed=False)
    return int(np.bincount(labels).max())
