"""The multi-scale autoencoder as an engine task (deep supervision at every level), its training entry point, and
the per-level evaluation (test PSNR per level with and without skips, per-level images saved)."""
from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import numpy as np
import torch

from rockzoom.autoencoder.loss import reconstruction_loss
from rockzoom.autoencoder.task import (
    LinearPathTask,
    sample_augmented,
    to_tensor,
)
from rockzoom.data.store import SplitArrays, load_split, load_summary
from rockzoom.engine.state import state_dir_for
from rockzoom.models.multiscale_ae import (
    MultiScaleAutoencoder,
    area_pyramid,
    mask_pyramid,
)

logger = logging.getLogger(__name__)

ARCH_KEYS = ("model", "loss", "level_weights", "skip_drop", "val_images", "engine")
OPTIONAL_KEYS = ("pca_init",)  # default True: start the linear path as a PCA of the training tiles (as the ViT)


def multiscale_kwargs(model_cfg: dict, img_size: int) -> dict:
    """Checkpoint ``model_kwargs``: the ``arch`` key makes ``load_autoencoder`` build this class."""
    return {"arch": "multiscale", "img_size": img_size, **model_cfg, "channels": list(model_cfg["channels"])}


def check_multiscale_config(cfg: dict, where: str = "multi-scale AE config") -> None:
    missing = [k for k in ARCH_KEYS if k not in cfg]
    unknown = sorted(set(cfg) - set(ARCH_KEYS) - set(OPTIONAL_KEYS))
    if missing or unknown:
        raise ValueError(f"{where}: missing keys {missing}, unknown keys {unknown} (expected {list(ARCH_KEYS)})")
    if len(cfg["level_weights"]) != len(cfg["model"]["channels"]):
        raise ValueError(f"{where}: level_weights {cfg['level_weights']} needs one weight per level "
                         f"(channels {cfg['model']['channels']}), coarsest first")
    if not 0 <= cfg["skip_drop"] <= 1:
        raise ValueError(f"{where}: skip_drop {cfg['skip_drop']} must be in [0, 1]")


def _psnr(sq_err: float, count: float) -> float:
    mse = sq_err / max(count, 1.0)
    return 10 * math.log10(1.0 / mse) if mse > 0 else 100.0


class MultiScaleTask(LinearPathTask):
    """Loss = sum over levels of weight * reconstruction loss against the area-downsampled tile. With skips, each
    sample uses them with probability 1 - skip_drop, so the latent path (generation) is trained on every batch that
    drops them. Model selection: val PSNR at full size *without* skips (what the 512 floats carry)."""

    kind = "ae"
    val_key = "val_psnr"

    def __init__(self, train: SplitArrays, val: SplitArrays, cfg: dict, pca_images: int = 2048,
                 linear_lr_scale: float = 0.1):
        check_multiscale_config(cfg)
        self.pca_init, self.pca_images, self.linear_lr_scale = cfg.get("pca_init", True), pca_images, linear_lr_scale
        self.validate_initial = self.pca_init  # the PCA start is a real model
        if len(train) == 0 or len(val) == 0:
            raise ValueError(f"autoencoder needs non-empty train and val splits (got {len(train)} / {len(val)})")
        self.train, self.cfg = train, cfg
        self._kwargs = multiscale_kwargs(cfg["model"], train.size)
        self.levels = len(cfg["model"]["channels"])
        self.skips = bool(cfg["model"].get("skips", True))
        pick = np.linspace(0, len(val) - 1, min(cfg["val_images"], len(val))).round().astype(int)
        self.val_images = to_tensor(val.images[pick])
        self.val_masks = torch.from_numpy(np.asarray(val.masks[pick]))

    def build_model(self):
        return self.with_pca_start(MultiScaleAutoencoder(**{k: v for k, v in self._kwargs.items() if k != "arch"}))

    def sample_batch(self, step, generator, batch_size):
        batch = sample_augmented(self.train, generator, batch_size)
        batch["skip_keep"] = (torch.rand(batch_size, generator=generator) >= self.cfg["skip_drop"]).float()
        return batch

    def loss(self, model, batch, step):
        preds = model(batch["images"], skips=self.skips, skip_keep=batch["skip_keep"], all_levels=True)
        targets = area_pyramid(batch["images"], self.levels)
        masks = mask_pyramid(batch["masks"], self.levels)
        total, extras = 0.0, {}
        for level, (pred, target, mask, weight) in enumerate(zip(preds, targets, masks, self.cfg["level_weights"])):
            loss, _ = reconstruction_loss(pred, target, mask, self.cfg["loss"])
            total = total + weight * loss
            extras[f"loss_level{level}"] = float(loss.detach())
        return total, extras

    def validate(self, model):
        """val_psnr: full size, latent only (selects the model); val_psnr_level{i}: each level, latent only;
        val_psnr_skips: full size with skips (for reference; not a 512-float reconstruction)."""
        device = next(model.parameters()).device
        sums: dict[str, list[float]] = {}

        def add(key, pred, target, mask):
            err = ((pred.float().clamp(0, 1) - target) ** 2)[mask.unsqueeze(1).expand_as(pred)]
            acc = sums.setdefault(key, [0.0, 0.0])
            acc[0] += float(err.sum())
            acc[1] += float(err.numel())

        for start in range(0, len(self.val_images), 8):
            images = self.val_images[start : start + 8].to(device)
            masks = self.val_masks[start : start + 8].to(device)
            targets, tmasks = area_pyramid(images, self.levels), mask_pyramid(masks, self.levels)
            for level, pred in enumerate(model(images, all_levels=True)):
                add(f"val_psnr_level{level}", pred, targets[level], tmasks[level])
            if self.skips:
                add("val_psnr_skips", model(images, skips=True), images, masks)
        out = {k: _psnr(*v) for k, v in sums.items()}
        out["val_psnr"] = out[f"val_psnr_level{self.levels - 1}"]
        return out


def train_multiscale(data_dir: str | Path, model_out: str | Path, cfg: dict, seed: int, *, gpus: int = 0,
                     progress: bool | None = None):
    """Train (or resume) and write ``model_out`` (kind "ae", loadable by ``load_autoencoder``), ``metrics.csv`` and
    ``curve.png``; resumable state in ``{model_out.parent}.state/``."""
    from rockzoom.engine import EngineConfig, train
    from rockzoom.util.devices import acquire_gpus

    check_multiscale_config(cfg)
    acquire_gpus(min(gpus, 1))
    model_out = Path(model_out)
    task = MultiScaleTask(load_split(data_dir, "train"), load_split(data_dir, "val"), cfg)
    return train(
        task, EngineConfig.from_dict({**cfg["engine"], "seed": seed}), model_out=model_out,
        state_dir=state_dir_for(model_out), metrics_csv=model_out.parent / "metrics.csv",
        curve_png=model_out.parent / "curve.png", stage_config={**cfg, "seed": seed},
        data_hash=load_summary(data_dir)["manifest_hash"], progress=progress,
    )


def _to_uint8(images: torch.Tensor) -> np.ndarray:
    return images.clamp(0, 1).mul(255).round().byte().permute(0, 2, 3, 1).cpu().numpy()


@torch.no_grad()
def eval_levels(model_path: str | Path, data_dir: str | Path, metrics_json: str | Path, levels_npz: str | Path,
                grid_png: str | Path, *, n_saved: int = 8, seed: int = 0, device: str = "auto") -> dict:
    """Test-split scores of every level, without skips (the latent alone) and with skips (not a 512-float code),
    with the standard evaluator; per-level outputs of the first ``n_saved`` test tiles saved to ``levels_npz``."""
    from rockzoom.autoencoder.evaluate import save_grid
    from rockzoom.autoencoder.inference import load_autoencoder
    from rockzoom.metrics.fidelity import evaluate
    from rockzoom.metrics.spectrum import spectrum_distance

    model, ckpt = load_autoencoder(model_path, device)
    if not isinstance(model, MultiScaleAutoencoder):
        raise ValueError(f"{model_path} is not a multi-scale autoencoder")
    data = load_split(data_dir, "test")
    if data.size != model.img_size:
        raise ValueError(f"{model_path} was trained at {model.img_size} px but {data_dir} holds {data.size} px tiles")
    dev = next(model.parameters()).device
    modes = {"latent_only": False} | ({"with_skips": True} if model.has_skips else {})
    outputs = {mode: [[] for _ in range(model.levels)] for mode in modes}
    for start in range(0, len(data), 8):
        images = to_tensor(data.images[start : start + 8]).to(dev)
        for mode, skips in modes.items():
            for level, pred in enumerate(model.reconstruct_levels(images, skips=skips)):
                outputs[mode][level].append(_to_uint8(pred.float()))
    images_u8 = np.asarray(data.images)
    masks = torch.from_numpy(np.array(data.masks))
    target_levels = [_to_uint8(t) for t in area_pyramid(to_tensor(images_u8), model.levels)]
    mask_levels = [m.numpy() for m in mask_pyramid(masks, model.levels)]
    table = {}
    for mode in modes:
        for level, size in enumerate(model.level_sizes):
            pred = np.concatenate(outputs[mode][level])
            row = evaluate(pred, target_levels[level], mask_levels[level], border=0, seed=seed)
            row["spectrum_distance_db"] = spectrum_distance(pred, target_levels[level])
            table[f"{mode}/{size}"] = row
            logger.info(f"test {mode:11s} level {size:4d}px: PSNR pooled {row['psnr_pooled']:.2f} dB, "
                        f"SSIM {row['ssim']:.4f}")
    result = {"model": str(model_path), "n": len(data), "img_size": model.img_size, "level_sizes": model.level_sizes,
              "checkpoint_step": ckpt["step"], "metrics": table,
              "note": "with_skips uses encoder features besides the latent: not a 512-float reconstruction"}
    Path(metrics_json).parent.mkdir(parents=True, exist_ok=True)
    Path(metrics_json).write_text(json.dumps(result, indent=2))
    k = min(n_saved, len(data))
    arrays = {"target": images_u8[:k]}
    for mode in modes:
        for level, size in enumerate(model.level_sizes):
            arrays[f"{mode}_{size}"] = np.concatenate(outputs[mode][level])[:k]
    tmp = Path(levels_npz).with_name(Path(levels_npz).name + ".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.replace(levels_npz)
    rows = [images_u8[:k]] + [_resize_nearest(arrays[f"latent_only_{s}"], model.img_size) for s in model.level_sizes]
    if "with_skips" in modes:
        rows.append(arrays[f"with_skips_{model.img_size}"])
    save_grid(rows, Path(grid_png))
    return result


def _resize_nearest(images: np.ndarray, size: int) -> np.ndarray:
    factor = size // images.shape[1]
    return images.repeat(factor, axis=1).repeat(factor, axis=2) if factor > 1 else images
