"""Progressive growing of the ViT autoencoder (ProGAN-style): a chain of stages at growing tile sizes.

A stage at size S starts from the previous stage's model (size S/r):
- weights whose shape does not depend on the size are copied; position embeddings are resized (bicubic) when the
  token grid changes (with a fixed ``token_grid`` the grid is the same at every size and they are copied as is);
- the size-dependent input layer (``patch_embed``) and output layer (``to_pixels``; the conv ``head`` keeps its
  shape and is copied) are new; they start as the old layers' nearest-neighbour upsampled weights (so the new
  patch embedding of an image equals the old one of its area-downsampled copy) and are then trained at size S;
- the new layers are faded in linearly over ``fade_images`` images (ProGAN): while alpha < 1 the patch tokens are
  ``alpha * new(x) + (1 - alpha) * old(avgpool(x))`` and the detail image is ``alpha * new + (1 - alpha) *
  upsample(old)``. The old layers are kept frozen, outside the state dict, so every checkpoint of a stage is an
  ordinary ``ViTAutoencoder`` checkpoint (kind "ae"); validation always runs at alpha = 1 (the model as exported).
"""
from __future__ import annotations

import copy
import logging
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from rockzoom.autoencoder.task import AutoencoderTask, to_tensor
from rockzoom.data.store import SplitArrays
from rockzoom.engine.state import state_dir_for
from rockzoom.models.vit_ae import ViTAutoencoder
from rockzoom.util.hashing import file_sha256

logger = logging.getLogger(__name__)

# Settings that may differ between stages of one chain (everything else must match, or weights cannot carry over).
STAGE_KEYS = ("img_size", "patch_size")


def fade_alpha(images_seen: int, fade_images: int) -> float:
    """Linear fade-in weight of the new layers after ``images_seen`` training images of a stage (0 -> 1)."""
    if fade_images <= 0:
        return 1.0
    return min(1.0, max(0.0, images_seen / fade_images))


def resize_pos_embed(pos: torch.Tensor, grid: int) -> torch.Tensor:
    """(1, D, g, g) position embeddings at ``grid`` (bicubic, as ``ViTAutoencoder.encode`` does for other sizes)."""
    if pos.shape[-1] == grid:
        return pos.clone()
    return F.interpolate(pos, size=(grid, grid), mode="bicubic", align_corners=False)


def upsample_kernel(weight: torch.Tensor, size: int) -> torch.Tensor:
    """A (O, I, k, k) kernel for an input ``size/k`` times finer: applied with stride ``size`` to the fine image it
    gives what the old kernel gives on the area-downsampled image (exact for integer ratios)."""
    k = weight.shape[-1]
    if size == k:
        return weight.clone()
    mode = "nearest" if size % k == 0 else "bilinear"
    return F.interpolate(weight, size=(size, size), mode=mode) * (k / size) ** 2


def upsample_subpixels(weight: torch.Tensor, channels: int, old: int, new: int) -> torch.Tensor:
    """Rows of a layer whose output is pixel-shuffled by ``old`` (``channels * old²`` rows), re-laid out for a shuffle
    by ``new``: the new sub-pixel (i, j) takes the row of the old sub-pixel (i*old//new, j*old//new), so the
    shuffled map is the nearest-neighbour upsampled old map."""
    rows = weight.reshape(channels, old, old, *weight.shape[1:])
    idx = torch.arange(new) * old // new
    rows = rows[:, idx][:, :, idx]
    return rows.reshape(channels * new * new, *weight.shape[1:]).clone()


def upsample_merge(weight: torch.Tensor, channels: int, old: int, new: int) -> torch.Tensor:
    """``to_latent`` weights (out, channels * m²) for a token grid ``new/old`` times finer (space-to-depth by ``new``
    instead of ``old``): each new position takes its old position's weight divided by the number sharing it."""
    cols = weight.reshape(weight.shape[0], channels, old, old)
    idx = torch.arange(new) * old // new
    cols = cols[:, :, idx][:, :, :, idx] * (old / new) ** 2
    return cols.reshape(weight.shape[0], channels * new * new).clone()


class _OldLayers:
    """The previous stage's size-specific layers, frozen; a plain object so they stay out of the state dict."""

    def __init__(self, old: ViTAutoencoder):
        self.patch_embed = copy.deepcopy(old.patch_embed).requires_grad_(False)
        self.to_pixels = copy.deepcopy(old.to_pixels).requires_grad_(False)
        self.head = copy.deepcopy(old.head).requires_grad_(False)
        self.img_size, self.pixels_per_token = old.img_size, old.pixels_per_token

    def to(self, device) -> "_OldLayers":
        for m in (self.patch_embed, self.to_pixels, self.head):
            m.to(device)
        return self


class FadeInAutoencoder(ViTAutoencoder):
    """A ``ViTAutoencoder`` at a new size that blends in the previous size's input/output layers while alpha < 1."""

    def __init__(self, old: ViTAutoencoder, **kwargs):
        super().__init__(**kwargs)
        if self.img_size % old.img_size:
            raise ValueError(f"stage size {self.img_size} is not a multiple of the previous size {old.img_size}")
        object.__setattr__(self, "old", _OldLayers(old))
        self.alpha = 1.0
        self._tokens = None
        self.patch_embed.register_forward_hook(self._blend_input)
        self.decoder.register_forward_hook(self._keep_tokens)
        self.head.register_forward_hook(self._blend_output)

    def _blend_input(self, module, inputs, new_tokens):
        if self.alpha >= 1:
            return new_tokens
        x = inputs[0]
        old = self.old.to(x.device).patch_embed(F.avg_pool2d(x, self.img_size // self.old.img_size))
        if old.shape[-1] != new_tokens.shape[-1]:
            old = F.interpolate(old, size=new_tokens.shape[-2:], mode="bilinear", align_corners=False)
        return self.alpha * new_tokens + (1 - self.alpha) * old

    def _keep_tokens(self, module, inputs, tokens):
        self._tokens = tokens if self.alpha < 1 else None

    def _blend_output(self, module, inputs, new_detail):
        if self.alpha >= 1 or self._tokens is None:
            return new_detail
        tokens, self._tokens = self._tokens, None
        n, lg = tokens.shape[0], self.latent_grid
        old = self.old.to(tokens.device)
        feats = old.to_pixels(tokens).transpose(1, 2).reshape(n, -1, lg, lg)
        old_detail = old.head(F.pixel_shuffle(feats, old.pixels_per_token))
        old_detail = F.interpolate(old_detail, size=new_detail.shape[-2:], mode="bilinear", align_corners=False)
        return self.alpha * new_detail + (1 - self.alpha) * old_detail


def grow(old: ViTAutoencoder, new_kwargs: dict) -> FadeInAutoencoder:
    """The next stage's model: ``new_kwargs`` (same settings as ``old`` except img_size/patch_size), initialised
    from ``old`` as described in the module docstring. Unmatched weights keep their fresh initialisation."""
    model = FadeInAutoencoder(old, **new_kwargs)
    if model.latent_dim != old.latent_dim or model.latent_grid != old.latent_grid:
        raise ValueError(f"stages must share the latent ({old.latent_grid}x{old.latent_grid}x{old.latent_channels} "
                         f"vs {model.latent_grid}x{model.latent_grid}x{model.latent_channels})")
    if model.grid < old.grid:
        raise ValueError(f"the token grid cannot shrink between stages ({old.grid} -> {model.grid})")
    src, dst = old.state_dict(), model.state_dict()
    hc = model.to_pixels.out_features // model.pixels_per_token**2
    embed_dim = model.enc_pos.shape[1]
    special = {
        "enc_pos": lambda w: resize_pos_embed(w, model.grid),
        "patch_embed.weight": lambda w: upsample_kernel(w, model.patch_size),
        "to_pixels.weight": lambda w: upsample_subpixels(w, hc, old.pixels_per_token, model.pixels_per_token),
        "to_pixels.bias": lambda w: upsample_subpixels(w, hc, old.pixels_per_token, model.pixels_per_token),
        "to_latent.weight": lambda w: upsample_merge(w, embed_dim, old.merge, model.merge),
    }
    with torch.no_grad():
        for name, target in dst.items():
            if name not in src:
                continue
            value = special[name](src[name]) if name in special else src[name]
            if value.shape != target.shape:
                raise ValueError(f"cannot carry {name} over: {tuple(src[name].shape)} -> {tuple(target.shape)}")
            target.copy_(value)
    return model


class ProgressiveStageTask(AutoencoderTask):
    """``AutoencoderTask`` for one stage: starts from ``init`` (the previous stage's checkpoint dict, or None for the
    first stage) and fades in the new layers over ``fade_images`` images of a ``batch_size`` global batch."""

    def __init__(self, train, val, model_cfg: dict, loss_weights: dict, val_images: int, *, init: dict | None,
                 fade_images: int, batch_size: int, pca_init: bool = True):
        # The PCA initialisation of the linear path only applies to the first stage; later ones inherit it.
        super().__init__(train, val, model_cfg, loss_weights, val_images, pca_init=pca_init and init is None)
        self.init, self.fade_images, self.batch_size = init, fade_images, batch_size
        self.validate_initial = True  # the first stage's PCA start, or the grown model, is a real candidate
        if init is not None:
            prev = init["model_kwargs"]
            ours = self._kwargs
            differ = sorted(k for k in set(prev) | set(ours) if k not in STAGE_KEYS and prev.get(k) != ours.get(k))
            if differ:
                raise ValueError(f"progressive stage: model settings {differ} differ from the previous stage")

    def build_model(self):
        if self.init is None:
            return super().build_model()
        old = ViTAutoencoder(**self.init["model_kwargs"])
        old.load_state_dict(self.init["state_dict"])
        return grow(old, self._kwargs)

    def loss(self, model, batch, step):
        core = getattr(model, "module", model)  # DDP wraps the model
        if isinstance(core, FadeInAutoencoder):
            core.alpha = fade_alpha(step * self.batch_size, self.fade_images)
        total, extras = super().loss(model, batch, step)
        if isinstance(core, FadeInAutoencoder):
            extras["alpha"] = core.alpha
        return total, extras

    def validate(self, model):
        if isinstance(model, FadeInAutoencoder):
            model.alpha = 1.0  # validate the model that is exported
        return super().validate(model)


STAGE_CFG_KEYS = ("fade_images", "size")


def downsample_split(split: SplitArrays, size: int | None) -> SplitArrays:
    """The split at ``size`` px: area-downsampled tiles (uint8) and masks valid only where every source pixel is."""
    if size is None or size == split.size:
        return split
    if split.size % size:
        raise ValueError(f"cannot downsample {split.size} px tiles to {size} px (not an integer factor)")
    factor = split.size // size
    images, masks = [], []
    for start in range(0, len(split), 64):
        x = to_tensor(split.images[start : start + 64])
        images.append(F.avg_pool2d(x, factor).mul(255).round().byte().permute(0, 2, 3, 1).numpy())
        m = torch.from_numpy(np.array(split.masks[start : start + 64])).float().unsqueeze(1)
        masks.append((-F.max_pool2d(-m, factor)).squeeze(1).numpy() > 0.5)
    return SplitArrays(images=np.concatenate(images), masks=np.concatenate(masks))


def train_progressive_stage(data_dir: str | Path, model_out: str | Path, stage_cfg: dict, seed: int, *,
                            init_path: str | Path | None = None, gpus: int = 0,
                            progress: bool | None = None, on_step_end=None):
    """Train (or resume) one stage and write ``model_out`` (kind "ae"), ``metrics.csv`` and ``curve.png`` beside it;
    resumable state in ``{model_out.parent}.state/``. ``stage_cfg``: an ae arch config (model, loss, val_images,
    engine) plus ``fade_images`` and ``size`` (the stage size: tiles of ``data_dir`` are area-downsampled to it, as
    ProGAN trains low resolutions on downsampled images of the final size). The previous checkpoint's digest is part of the stage config, so a retrained
    earlier stage never resumes a stale state."""
    from rockzoom.autoencoder.train import check_arch_config
    from rockzoom.data.store import load_split, load_summary
    from rockzoom.engine import EngineConfig, train
    from rockzoom.util.checkpoint import load_checkpoint, require_kind
    from rockzoom.util.devices import acquire_gpus

    arch_cfg = {k: v for k, v in stage_cfg.items() if k not in STAGE_CFG_KEYS}
    check_arch_config(arch_cfg, "progressive stage config")
    acquire_gpus(min(gpus, 1))  # one device per stage (no DDP relaunch for the variants)
    init = None if init_path is None else require_kind(load_checkpoint(init_path), "ae", init_path)
    engine_cfg = EngineConfig.from_dict({**arch_cfg["engine"], "seed": seed})
    size = stage_cfg.get("size")
    train_split, val_split = (downsample_split(load_split(data_dir, split), size) for split in ("train", "val"))
    task = ProgressiveStageTask(train_split, val_split, arch_cfg["model"],
                                arch_cfg["loss"], arch_cfg["val_images"], init=init,
                                fade_images=int(stage_cfg.get("fade_images", 0)), batch_size=engine_cfg.batch_size,
                                pca_init=arch_cfg.get("pca_init", True))
    model_out = Path(model_out)
    stage_config = {**stage_cfg, "seed": seed,
                    "init": None if init_path is None else {"path": str(init_path), "sha": file_sha256(init_path)[:16]}}
    if init is not None:
        logger.info(f"growing {init['model_kwargs']['img_size']} px -> {task.model_kwargs()['img_size']} px from "
                    f"{init_path}; fade-in over {stage_cfg.get('fade_images', 0)} images")
    return train(
        task, engine_cfg, model_out=model_out, state_dir=state_dir_for(model_out),
        metrics_csv=model_out.parent / "metrics.csv", curve_png=model_out.parent / "curve.png",
        stage_config=stage_config, data_hash=load_summary(data_dir)["manifest_hash"], progress=progress,
        on_step_end=on_step_end,
    )


def export_stage(stage_model: str | Path, model_out: str | Path) -> None:
    """The last stage as an ordinary ``{arch}-s{S}`` autoencoder checkpoint (it already is one: this checks it loads
    as a ``ViTAutoencoder`` and records where it came from)."""
    from rockzoom.util.checkpoint import load_checkpoint, require_kind, save_checkpoint

    ckpt = require_kind(load_checkpoint(stage_model), "ae", stage_model)
    model = ViTAutoencoder(**ckpt["model_kwargs"])
    model.load_state_dict(ckpt["state_dict"])
    ckpt = {k: v for k, v in ckpt.items() if k != "format_version"}
    ckpt["config"] = {**ckpt["config"], "exported_from": str(stage_model)}
    save_checkpoint(model_out, ckpt)
    logger.info(f"exported {stage_model} ({model.img_size} px, step {ckpt['step']}, best val {ckpt['best_val']}) "
                f"-> {model_out}")
