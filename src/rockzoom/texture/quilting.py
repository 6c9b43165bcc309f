"""Guided image quilting (Efros and Freeman, SIGGRAPH 2001, "texture transfer"): the detail stage's last step.

The patch synthesis (``patch_synthesis``) gets the layout and the mid-scale texture right but rebuilds every pixel as
an average of small overlapping patches, and a classifier tells that fine texture from real ground at once. Quilting
rebuilds the image from whole blocks of training tiles instead: blocks of ``block`` px are laid in raster order with
``overlap`` px of overlap; each is chosen among the ``candidates`` training blocks whose cell means (``cell`` px
cells, compared in a PCA space) are nearest to the guide's there, by (1 - alpha) * that correspondence error +
alpha * the squared difference in the overlap with the blocks already laid, at random among those within
``tolerance`` of the best; and it is cut into place along the minimum-error path through each overlap, so the seams
follow the texture. Every pixel is then a real pixel, with its real neighbours, inside its block.

Candidates are all fully valid blocks of the source tiles on a ``stride`` px grid, each in its 8 flips and quarter
turns, subsampled (seeded) to at most ``max_candidates``. ``seamless``: blocks wrap around the image's edges and the
last block of a row or column is cut against the first one as well, so the result tiles.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F


def dihedral_each(p: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Apply dihedral transform k[i] in 0..7 (k % 4 quarter turns, then a flip when k >= 4) to the last two dims of
    each p[i] (the patch banks' and the quilting candidates' flips and rotations)."""
    out = torch.empty_like(p)
    for t in range(8):
        sel = (k == t).nonzero(as_tuple=True)[0]
        if len(sel) == 0:
            continue
        q = torch.rot90(p[sel], t % 4, dims=(-2, -1))
        out[sel] = torch.flip(q, dims=(-1,)) if t >= 4 else q
    return out


@dataclass
class QuiltSource:
    """Candidate blocks of the source tiles: where they are (tile, y, x, transform) and their cell-mean features."""
    tiles: np.ndarray  # uint8 (N, H, W, 3)
    block: int
    cell: int
    where: np.ndarray  # int64 (n, 4)
    features: torch.Tensor  # float32 (n, dims), projected
    norms: torch.Tensor  # (n,) squared norms of the features
    mean: torch.Tensor  # (3 * k * k,)
    basis: torch.Tensor | None  # (3 * k * k, dims) or None (no projection)

    @classmethod
    def build(cls, images: np.ndarray, masks: np.ndarray | None = None, *, block: int = 16, cell: int = 4,
              stride: int = 8, dims: int | None = 32, max_candidates: int | None = 131072,
              seed: int = 0) -> "QuiltSource":
        """Candidates from uint8 (N, H, W, 3) images; masks (N, H, W) bool, True = valid (blocks with any no-data
        are left out). ``block`` and ``stride`` must be multiples of ``cell``."""
        if block % cell or stride % cell:
            raise ValueError(f"quilting: block {block} and stride {stride} must be multiples of cell {cell}")
        images = np.asarray(images)
        if images.ndim != 4 or images.shape[-1] < 3:
            raise ValueError(f"quilting: expected (N, H, W, 3) images, got {images.shape}")
        masks = np.ones(images.shape[:3], bool) if masks is None else np.asarray(masks, bool)
        h, w = (images.shape[1] // cell) * cell, (images.shape[2] // cell) * cell  # whole cells only
        images, masks = images[:, :h, :w], masks[:, :h, :w]
        if min(h, w) < block:
            raise ValueError(f"quilting: source tiles of {h}x{w} px are smaller than the {block} px block")
        tiles = torch.from_numpy(np.ascontiguousarray(images[..., :3])).permute(0, 3, 1, 2)
        k = block // cell
        ok, grids = [], []
        for s in range(0, len(tiles), 16):  # a few tiles at a time in float
            valid = torch.from_numpy(np.ascontiguousarray(masks[s:s + 16]))[:, None].float()
            # a block is valid when its whole window is (min pool = -max pool of the negation), on the stride grid
            ok.append((-F.max_pool2d(-valid, block, stride=stride))[:, 0] > 0.5)  # (n, ny, nx)
            cells = F.avg_pool2d(tiles[s:s + 16].float(), cell)  # (n, 3, H / cell, W / cell)
            grids.append(F.unfold(cells, k, stride=stride // cell))  # (n, 3 k k, ny * nx)
        ok, grids = torch.cat(ok), torch.cat(grids)
        tile_i, pos = ok.flatten(1).nonzero(as_tuple=True)
        if len(tile_i) == 0:
            raise ValueError(f"quilting: no fully valid {block} px block in the source tiles")
        nx = ok.shape[2]
        # (position, transform) pairs, subsampled before any transformed feature exists (memory ~ max_candidates)
        total = 8 * len(tile_i)
        pairs = torch.arange(total)
        if max_candidates and total > max_candidates:
            gen = torch.Generator().manual_seed(int(seed))
            pairs = torch.randperm(total, generator=gen)[:max_candidates].sort().values
        turn, at = pairs // len(tile_i), pairs % len(tile_i)
        feats = dihedral_each(grids[tile_i[at], :, pos[at]].reshape(-1, 3, k, k), turn).flatten(1)
        where = torch.stack([tile_i[at], (pos[at] // nx) * stride, (pos[at] % nx) * stride, turn], 1)
        mean = feats.mean(0)
        basis = None
        if dims and dims < feats.shape[1]:
            centred = (feats - mean).double()
            _, vecs = torch.linalg.eigh(centred.T @ centred)  # ascending eigenvalues
            basis = vecs[:, -dims:].float().contiguous()
        feats = cls._project(feats, mean, basis)
        return cls(tiles=np.ascontiguousarray(images[..., :3]), block=block, cell=cell, where=where.numpy(),
                   features=feats, norms=(feats * feats).sum(1), mean=mean, basis=basis)

    @staticmethod
    def _project(feats: torch.Tensor, mean: torch.Tensor, basis: torch.Tensor | None) -> torch.Tensor:
        return ((feats - mean) @ basis if basis is not None else feats - mean).contiguous()

    def nearest(self, cells: torch.Tensor, k: int, chunk: int = 64) -> tuple[np.ndarray, np.ndarray]:
        """For each of M guide blocks' cell means (M, 3, kc, kc): the k candidates whose features are nearest,
        (M, k) rows and (M, k) mean squared errors per feature value. One matrix product per chunk of blocks."""
        q = self._project(cells.flatten(1), self.mean, self.basis)
        k = min(k, len(self.norms))
        rows, errs = [], []
        for s in range(0, len(q), chunk):
            qc = q[s:s + chunk]
            d = self.norms[None] - 2 * qc @ self.features.T + (qc * qc).sum(1, keepdim=True)
            best = torch.topk(d, k, dim=1, largest=False)
            rows.append(best.indices.numpy())
            errs.append((best.values.clamp_min(0) / cells[0].numel()).numpy())
        return np.concatenate(rows), np.concatenate(errs)

    def blocks(self, rows: np.ndarray) -> np.ndarray:
        """float32 (K, 3, B, B) pixels of the candidates, transformed."""
        w = self.where[rows]
        r = np.arange(self.block)
        ys = (w[:, 1, None] + r)[:, :, None]
        xs = (w[:, 2, None] + r)[:, None, :]
        out = torch.from_numpy(self.tiles[w[:, 0, None, None], ys, xs].transpose(0, 3, 1, 2).astype(np.float32))
        return dihedral_each(out, torch.from_numpy(w[:, 3])).numpy()  # (K, 3, B, B)


def _positions(size: int, block: int, overlap: int, seamless: bool) -> list[int]:
    """Block origins along one axis: consecutive blocks overlap by at least `overlap` px; plain: the first at 0, the
    last ending at size; seamless: evenly spread around the period (the last overlaps the first)."""
    step = block - overlap
    if seamless:
        n = max(1, -(-size // step))
        return [round(i * size / n) for i in range(n)]
    n = max(1, -(-(size - overlap) // step))
    if n == 1:
        return [0]
    return [round(i * (size - block) / (n - 1)) for i in range(n)]


def _cut(err: np.ndarray) -> np.ndarray:
    """Minimum-cost vertical path through err (rows, cols): the column of the path in each row (8-connected)."""
    rows, cols = err.shape
    cost = err.astype(np.float64).copy()
    step = np.zeros((rows, cols), np.int64)
    inf = np.full(1, np.inf)
    for i in range(1, rows):
        prev = cost[i - 1]
        options = np.stack([np.concatenate([inf, prev[:-1]]), prev, np.concatenate([prev[1:], inf])])
        choice = options.argmin(0)
        step[i] = choice - 1
        cost[i] += options[choice, np.arange(cols)]
    path = np.empty(rows, np.int64)
    path[-1] = int(cost[-1].argmin())
    for i in range(rows - 1, 0, -1):
        path[i - 1] = path[i] + step[i, path[i]]
    return path


def _keep_new(diff: np.ndarray, sides: dict) -> np.ndarray:
    """Which pixels of a block (B, B) to take from the new block: behind the minimum-error cut through each
    overlap strip (sides: name -> strip width; diff: squared difference new - current per pixel)."""
    b = diff.shape[0]
    keep = np.ones((b, b), bool)
    i = np.arange(b)  # a column index for the vertical strips, a row index for the horizontal ones
    for side, width in sides.items():
        if width <= 0:
            continue
        if side == "left":
            keep &= i[None, :] >= _cut(diff[:, :width])[:, None]
        elif side == "right":
            keep &= i[None, :] <= (b - width + _cut(diff[:, b - width:]))[:, None]
        elif side == "top":
            keep &= i[:, None] >= _cut(diff[:width, :].T)[None, :]
        else:  # bottom
            keep &= i[:, None] <= (b - width + _cut(diff[b - width:, :].T))[None, :]
    return keep


def quilt(guide: np.ndarray, source: QuiltSource, *, overlap: int = 4, alpha: float = 0.03, candidates: int = 128,
          tolerance: float = 0.1, seamless: bool = False, seed: int = 0) -> np.ndarray:
    """Rebuild uint8 (H, W, 3) ``guide`` from source blocks that follow its cell means (module docstring)."""
    g = np.asarray(guide)[..., :3]
    h, w = g.shape[:2]
    b, cell = source.block, source.cell
    if min(h, w) < b:
        raise ValueError(f"quilting: a {h}x{w} image is smaller than the {b} px block")
    if not 0 < overlap < b:
        raise ValueError(f"quilting: overlap {overlap} must be between 1 and block - 1 ({b - 1})")
    rng = np.random.default_rng(seed)
    target = np.array(g, dtype=np.float32).transpose(2, 0, 1)  # (3, H, W)
    canvas = np.zeros((3, h, w), np.float32)
    ys, xs = _positions(h, b, overlap, seamless), _positions(w, b, overlap, seamless)
    r = np.arange(b)
    # the correspondence error does not depend on what is laid: the candidates of every block in one pass
    windows = np.stack([target[:, (y + r) % h][:, :, (x + r) % w] for y in ys for x in xs])
    cells = windows.reshape(len(windows), 3, b // cell, cell, b // cell, cell).mean((3, 5))
    found_all, corr_all = source.nearest(torch.from_numpy(cells), candidates)
    for iy, y in enumerate(ys):
        rows = (y + r) % h
        for ix, x in enumerate(xs):
            cols = (x + r) % w
            sides = {"left": xs[ix - 1] + b - x if ix > 0 else 0, "top": ys[iy - 1] + b - y if iy > 0 else 0}
            if seamless and ix == len(xs) - 1 and ix > 0:
                sides["right"] = x + b - w
            if seamless and iy == len(ys) - 1 and iy > 0:
                sides["bottom"] = y + b - h
            blocks = source.blocks(found_all[iy * len(xs) + ix])  # (K, 3, B, B)
            err = corr_all[iy * len(xs) + ix].astype(np.float64)
            current = canvas[:, rows][:, :, cols]
            laid = np.zeros((b, b), bool)
            for side, width in sides.items():
                if width > 0:
                    sl = {"left": np.s_[:, :width], "right": np.s_[:, b - width:],
                          "top": np.s_[:width, :], "bottom": np.s_[b - width:, :]}[side]
                    laid[sl] = True
            overlapping = laid.any()
            if overlapping:
                ov = ((blocks - current[None]) ** 2)[:, :, laid].mean((1, 2))
                err = (1 - alpha) * err + alpha * ov
            choice = rng.choice(np.flatnonzero(err <= err.min() * (1 + tolerance) + 1e-9))
            new = blocks[choice]
            keep = _keep_new(((new - current) ** 2).sum(0), sides) if overlapping else np.ones((b, b), bool)
            current[:, keep] = new[:, keep]
            canvas[np.ix_(np.arange(3), rows, cols)] = current
    return np.clip(canvas, 0, 255).round().astype(np.uint8).transpose(1, 2, 0)
