"""Exemplar detail for a learned upscale: the PSNR net's output plus the fine detail of real ground matched to it.

The PSNR net draws the layout right but paints it smooth (its output is the mean of what the input allows). Image
analogies (Hertzmann et al., SIGGRAPH 2001) on the training ground put the detail back: windows of real ground S are
box-averaged x k and upscaled by the same net, giving A (what the net makes of that ground). For an input x the net
gives B; every pixel of B is matched to the A patch that looks most like it (coarse to fine, a correspondence field
carried down the levels and refined PatchMatch-style, ``rockzoom.scene.field_synthesis``), and the output is

    B + gain * (vote(S) - vote(A))

: B keeps its layout and colours, and gets the difference between the real ground and the net's rendering of it at
the matched places (grit, lichen, crisp stone edges), in real proportions. With ``back_project`` the result is then
projected onto its input (``rockzoom.superres.back_projection``): ``projection`` smooth, iterative back-projection
(x k box average within ~1e-3 of the input, no block edges; the default), or exact (equal, by shifting each block).

With ``detail: blocks`` the match is made per whole block instead (``rockzoom.superres.block_transfer``): each
``block`` px block of B gets S - A of the training block whose rendering looks most like it, so real detail arrives in
coherent pieces and no vote averages it; cheaper too (one nearest-neighbour search per block).

Scale analogy: the net and the exemplars are made one zoom step apart at the tree's resolution (LR = the tree box-
averaged x k), and applied one step finer, as the net itself is.

An exemplar checkpoint (kind ``sr_exemplar``) holds the PSNR net's checkpoint, the source canvas (windows of the
training ground side by side, a validity mask between them), its net rendering, and the settings; its size is bounded
by ``max_windows`` x ``window``², never by the tree.
"""
from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rockzoom.superres.upscale import NetUpscaler, Upscaler

if TYPE_CHECKING:
    from rockzoom.scene.ground import GroundIndex

log = logging.getLogger(__name__)

KIND = "sr_exemplar"
GAP = 8  # invalid pixels between windows of the canvas (one invalid pixel at the coarsest level of a x4 upscale)


@dataclass(frozen=True)
class ExemplarSettings:
    """How the exemplar canvas is cut (``window``, ``max_windows``) and how the detail is matched and added."""
    window: int = 512          # side of each window of training ground (px, multiple of the scale)
    max_windows: int = 12      # windows kept (the memory cap)
    min_valid: float = 0.95    # valid fraction a window needs
    patch: int = 7             # patch side at every level (odd)
    pca_dims: int = 16         # matching dimensions
    factor: float = 0.63       # pyramid step between levels, from 1 / scale up to 1
    iterations: int = 2        # local-search passes per finer level
    key_stride: int = 2        # the exhaustive first level matches against every key_stride-th source position
    sigma: float = 1.0         # Gaussian weight (px) of patch pixels in the vote
    gain: float = 1.0          # weight of the matched detail (0: the net's output)
    coherence: float = 3.0     # favour neighbours' shifted matches in the local search (0: off)
    back_project: bool = True  # LR consistency afterwards
    projection: str = "smooth"  # smooth: iterative bicubic back-projection; exact: blocks shifted onto the input
    # field: per-pixel correspondence field and vote; blocks: whole matched blocks. The workflow's default (and its
    # back_project) come from sr.exemplar in the config; these defaults read checkpoints made before the setting.
    detail: str = "field"
    block: int = 40            # blocks mode: block side (px, multiple of the scale)
    block_overlap: int = 8     # blocks mode: feathered overlap (px); grid step = block - block_overlap
    block_stride: int = 16     # blocks mode: stride (px) of the candidate blocks on the canvas
    orient_sigma: float = 0.0  # blocks mode: residual smoothed along the output's orientation (px; 0 = off)
    edge_power: float = 0.0    # blocks mode: residual moved onto the output's coarse edges (0 = off)
    seed: int = 0

    def __post_init__(self):
        if self.patch < 3 or self.patch % 2 == 0:
            raise ValueError(f"exemplar patch must be odd and >= 3, got {self.patch}")
        if not 0 < self.factor < 1:
            raise ValueError(f"exemplar factor must be in (0, 1), got {self.factor}")
        if self.max_windows < 1 or self.window < 32:
            raise ValueError(f"exemplar needs max_windows >= 1 and window >= 32, got {self.max_windows}, {self.window}")
        if self.gain < 0:
            raise ValueError(f"exemplar gain must be >= 0, got {self.gain}")
        if self.projection not in ("exact", "smooth"):
            raise ValueError(f"exemplar projection must be exact or smooth, got {self.projection!r}")
        if self.detail not in ("field", "blocks"):
            raise ValueError(f"exemplar detail must be field or blocks, got {self.detail!r}")
        if self.orient_sigma < 0 or self.edge_power < 0:
            raise ValueError(f"exemplar orient_sigma and edge_power must be >= 0, got {self.orient_sigma}, "
                             f"{self.edge_power}")
        if not 0 <= self.block_overlap < self.block:
            raise ValueError(f"exemplar block_overlap must be in [0, block), got {self.block_overlap}")

    @classmethod
    def from_config(cls, config: dict | None) -> ExemplarSettings:
        config = dict(config or {})
        bad = sorted(set(config) - set(asdict(cls())))
        if bad:
            raise ValueError(f"unknown exemplar settings: {bad}")
        return cls(**config)


def exemplar_mem_mb(settings: dict | None, output: int = 0) -> int:
    """Memory (MB) an exemplar upscaler holds beyond the job's floor, from its settings alone: the canvas and its
    rendering (uint8), every level's images and PCA feature tables (float32, levels ~1.62x the canvas), and the
    search of one ``output`` px image."""
    st = ExemplarSettings.from_config(settings)
    px = st.max_windows * st.window * st.window
    if st.detail == "blocks":  # canvas, rendering, int16 residual, LR features, the table; one output's sums
        per_px = 12 + 4 * (3 / 16 + (st.pca_dims + 1) / st.block_stride**2) + (4 if st.edge_power > 0 else 0)
        shaping = 160 if st.orient_sigma > 0 or st.edge_power > 0 else 0  # the 8 directions' smoothings, float32
        return int((px * per_px + output * output * (48 + shaping)) / 2**20) + 1
    per_px = 6 + 1.62 * (36 + 4 * (st.pca_dims + 1))
    return int((px * per_px + output * output * 300) / 2**20) + 1


def exemplar_canvas(ground: GroundIndex, *, window: int, max_windows: int, min_valid: float, scale: int,
                    seed: int = 0):
    """Up to ``max_windows`` windows of the ground laid on a grid with ``GAP`` invalid pixels between them -> (uint8
    canvas (H, W, 3), bool mask (H, W), origins of the windows). A ground smaller than ``window`` gives one window
    of its size (rounded down to the scale)."""
    from rockzoom.scene.ground import pick_windows

    side = min(window, ground.shape[0], ground.shape[1])
    side -= side % scale
    if side < 8 * scale:
        raise ValueError(f"the training ground ({ground.shape[0]}x{ground.shape[1]} px) is too small for exemplars")
    picked = pick_windows(ground, side, max_windows, min_valid=min_valid, seed=seed, grid=max(scale, side // 8),
                          spacing=side // 2)
    if not picked:  # ground with holes everywhere: the best-covered windows
        picked = pick_windows(ground, side, max_windows, min_valid=0.5, seed=seed, grid=max(scale, side // 8))
    if not picked:
        raise ValueError("no window of the training ground is at least half valid: no exemplars")
    cols = int(np.ceil(np.sqrt(len(picked))))
    rows = int(np.ceil(len(picked) / cols))
    step = side + GAP
    canvas = np.zeros((rows * step - GAP, cols * step - GAP, 3), np.uint8)
    valid = np.zeros(canvas.shape[:2], bool)
    for i, (y, x) in enumerate(picked):
        img, m = ground.window(y, x, side)
        r, c = divmod(i, cols)
        canvas[r * step:r * step + side, c * step:c * step + side] = img
        valid[r * step:r * step + side, c * step:c * step + side] = m
    return canvas, valid, picked


def net_rendering(net: Upscaler, canvas: np.ndarray, lr_blur: float = 0.0) -> np.ndarray:
    """What the net makes of the canvas box-averaged x its scale and blurred as its training LR was
    (``lr_blur``, ``superres.degradation``) (uint8, the canvas's size)."""
    from rockzoom.scene.novelty import box_down
    from rockzoom.superres.degradation import blur_lr
    from rockzoom.superres.upscale import upscale_tiled

    k = net.scale
    h, w = canvas.shape[:2]
    lr = blur_lr(box_down(canvas, k) / 255.0, lr_blur)
    out = np.zeros_like(canvas)
    upscale_tiled(net, lr.astype(np.float32), tile=128, overlap=16, out=out[:h - h % k, :w - w % k])
    return out


def build_exemplar_checkpoint(net_checkpoint: str | Path, data_dir: str | Path, out_path: str | Path,
                              settings: ExemplarSettings) -> dict:
    """Cut the exemplar canvas from the training split of ``data_dir``, render it with the PSNR net of
    ``net_checkpoint`` and write the exemplar checkpoint to ``out_path``; returns its info."""
    import torch

    from rockzoom.scene.ground import GroundIndex
    from rockzoom.superres.train import trained_lr_blur
    from rockzoom.util.checkpoint import load_checkpoint, save_checkpoint

    t0 = time.perf_counter()
    net_payload = load_checkpoint(net_checkpoint)
    net = NetUpscaler.from_checkpoint(net_checkpoint, device="cpu")
    ground = GroundIndex.from_split(data_dir, "train")
    canvas, valid, picked = exemplar_canvas(ground, window=settings.window, max_windows=settings.max_windows,
                                            min_valid=settings.min_valid, scale=net.scale, seed=settings.seed)
    rendering = net_rendering(net, canvas, trained_lr_blur(net_payload))
    info = {"windows": len(picked), "window_px": int(min(settings.window, *ground.shape) // net.scale * net.scale),
            "canvas": list(canvas.shape[:2]), "valid_fraction": float(valid.mean()), "scale": net.scale,
            "net": str(net_checkpoint), "train_samples": len(ground.images),
            "seconds": round(time.perf_counter() - t0, 2)}
    save_checkpoint(out_path, {
        "kind": KIND, "net": net_payload, "settings": asdict(settings), "info": info,
        "source": torch.from_numpy(canvas), "rendering": torch.from_numpy(rendering),
        "mask": torch.from_numpy(valid)})
    log.info("exemplars: %d windows of %d px (canvas %dx%d, %.0f%% valid) in %.1f s -> %s", info["windows"],
             info["window_px"], *info["canvas"], 100 * info["valid_fraction"], info["seconds"], out_path)
    return info


class ExemplarUpscaler(Upscaler):
    """The PSNR net plus exemplar detail (module docstring). Deterministic for an input (the field search is
    seeded per call). The source levels are built on first use."""

    def __init__(self, net: NetUpscaler, source: np.ndarray, rendering: np.ndarray, mask: np.ndarray,
                 settings: ExemplarSettings, name: str | None = None):
        self.net, self.settings = net, settings
        self.scale = net.scale
        self.name = name or f"{net.name}+exemplar"
        self._source, self._rendering, self._mask = source, rendering, mask
        self._levels = None
        self._bank = None

    @classmethod
    def from_payload(cls, payload: dict, path: str, device: str = "auto", name: str | None = None,
                     self_ensemble: bool = False) -> ExemplarUpscaler:
        if payload.get("kind") != KIND:
            raise ValueError(f"{path}: not an exemplar checkpoint (kind {payload.get('kind')!r})")
        for key in ("net", "source", "rendering", "mask", "settings"):
            if key not in payload:
                raise ValueError(f"{path}: exemplar checkpoint without {key!r}")
        net = NetUpscaler.from_payload(payload["net"], path, device=device, self_ensemble=self_ensemble,
                                       name=Path(path).parent.name)
        return cls(net, payload["source"].numpy(), payload["rendering"].numpy(), payload["mask"].numpy(),
                   ExemplarSettings.from_config(payload["settings"]), name=name)

    # ---------------------------------------------------------------------------------------------- source levels
    def prepare(self) -> ExemplarUpscaler:
        """Build the source levels (field) or the block bank (blocks) now, otherwise on first use; copies made
        afterwards share them."""
        if self.settings.detail == "blocks":
            if self._bank is None:
                from rockzoom.superres.block_transfer import BlockBank

                st = self.settings
                self._bank = BlockBank(self._source, self._rendering, self._mask, scale=self.scale, block=st.block,
                                       overlap=st.block_overlap, stride=st.block_stride, dims=st.pca_dims,
                                       seed=st.seed, orient_sigma=st.orient_sigma, edge_power=st.edge_power)
        elif self._levels is None:
            self._build_levels()
        return self

    def _build_levels(self):
        import torch
        import torch.nn.functional as F

        from rockzoom.scene.field_synthesis import SourceLevel, _to_tensor, resize
        from rockzoom.scene.settings import level_scales

        st = self.settings
        gen = torch.Generator().manual_seed(st.seed)
        src, ren = _to_tensor(self._source), _to_tensor(self._rendering)
        m = torch.from_numpy(np.asarray(self._mask, bool))[None, None].float()
        h, w = src.shape[-2:]
        levels = []
        for sc in level_scales(1.0 / self.scale, st.factor):
            shape = (max(1, round(h * sc)), max(1, round(w * sc)))
            ren_l, src_l = resize(ren, shape), resize(src, shape)
            m_l = (F.interpolate(m, size=shape, mode="area") > 0.999).float() if sc < 1 else m
            level = SourceLevel(ren_l, m_l, shape, st.patch, st.pca_dims, gen)  # matched against the rendering
            levels.append((sc, shape, level, src_l))
        first_shape, first = levels[0][1], levels[0][2]
        cy, cx = first.centres // first_shape[1], first.centres % first_shape[1]
        keys = first.centres[(cy % st.key_stride == 0) & (cx % st.key_stride == 0)]
        if len(keys) == 0:
            keys = first.centres
        self._levels = levels
        self._first_keys = keys
        self._first_table = first.table(keys=False)[0][keys].contiguous()

    def detail(self, net_out: np.ndarray) -> np.ndarray:
        """float32 (H, W, 3) in [0, 1]: ``net_out`` plus the matched detail (before any back-projection)."""
        import torch

        from rockzoom.scene.field_synthesis import (
            _local,
            _to_tensor,
            _upsample_field,
            resize,
            vote,
        )
        from rockzoom.texture.patch_synthesis import nearest

        st = self.settings
        if st.gain == 0:
            return net_out
        self.prepare()
        if st.detail == "blocks":
            base = np.asarray(net_out, np.float32) * 255.0
            return np.clip((base + st.gain * self._bank.residual_for(base)) / 255.0, 0.0, 1.0)
        gen = torch.Generator().manual_seed(st.seed)
        b = _to_tensor(np.asarray(net_out, np.float32) * 255.0)
        oh, ow = b.shape[-2:]
        field, prev = None, None
        for sc, s_shape, level, _ in self._levels:
            o_shape = (max(1, round(oh * sc)), max(1, round(ow * sc)))
            query = level.features(resize(b, o_shape))
            if field is None:
                q = query.reshape(query.shape[0], -1).T.contiguous()
                field = self._first_keys[nearest(q, self._first_table, alpha=None, chunk=128)].reshape(o_shape)
            else:
                field = _upsample_field(field, prev, s_shape, o_shape)
                for _ in range(st.iterations):
                    field = _local(query, level, field, 1, 2, gen, 16384, coherence=st.coherence)
            prev = s_shape
        level, src = self._levels[-1][2], self._levels[-1][3]
        real, rendered = vote(src, field, st.patch, st.sigma), vote(level.values, field, st.patch, st.sigma)
        out = b + st.gain * (real - rendered)
        return ((out[0].permute(1, 2, 0) + 1.0) / 2.0).clamp(0, 1).numpy()

    def upscale(self, image: np.ndarray) -> np.ndarray:
        return self.upscale_batch([image])[0]

    def upscale_batch(self, images: list[np.ndarray]) -> list[np.ndarray]:
        outs = [self.detail(o) for o in self.net.upscale_batch(images)]
        if not self.settings.back_project:
            return outs
        from rockzoom.superres.back_projection import back_project_batch

        return back_project_batch(outs, images, self.scale, smooth=self.settings.projection == "smooth")
