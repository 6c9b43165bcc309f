"""Diffusion refinement of upscaled images (Method 4): a conditional residual diffusion model, few-step DDIM.

The refiner learns the distribution of the residual ``r = HR - up`` between the real HR mosaic and an upscaled
version of its LR image (bicubic, Lanczos or a trained SR net: ``up`` is the condition), in units of
``residual_scale`` (the residual's standard deviation on the training set), so ``x0 = r / residual_scale``.

- Noise schedule: cosine (Nichol & Dhariwal 2021), continuous time t in [0, 1], ``alpha_bar(t) = cos²((t+s)/(1+s)·π/2)
  / cos²(s/(1+s)·π/2)``, s = 0.008; alpha_bar(1) = 0, so sampling starts from pure noise.
- Target: v (default; ``v = sqrt(ab)·eps - sqrt(1-ab)·x0``) or eps; masked MSE over valid HR pixels, t ~ U(0, 1).
- Sampling: DDIM on an evenly spaced grid of ``steps`` times from 1 to 0, eta 0 by default (deterministic given the
  seed of the initial noise). The predicted x0 is clipped to the residuals that keep ``up + r`` inside [0, 1].
- Large images: the sampler state is global (one noise field for the whole image); only the network runs on
  overlapping patches, whose predictions are cross-faded with linear ramps that sum to one, after dropping the
  outer quarter of each overlap (where a patch sees its own zero padding). The blended prediction is a smooth
  function of position, so there are no seams, and the result does not depend on the processing order or batch.
- bf16 autocast for the network on CUDA; the sampler arithmetic stays fp32.
- ``Refiner`` is a scale-1 ``Upscaler`` (``rockzoom.upscale``), so it chains after any upscaler
  (``RefinedUpscaler``, benchmark rows, generation). Its initial noise is seeded from (seed, the input's uint8
  pixels): the same image and seed always give the same output, whatever else was refined before.
"""
from __future__ import annotations

import hashlib
import json
import math
import zlib
from contextlib import nullcontext
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from rockzoom.arrays import load_split, load_summary
from rockzoom.checkpoint import load_checkpoint, require_kind
from rockzoom.devices import acquire_gpus
from rockzoom.engine import EngineConfig, TrainResult, TrainTask, train
from rockzoom.engine.augment import random_dihedral
from rockzoom.metrics import evaluate, hf_energy_ratio
from rockzoom.models.refiner_unet import build_refiner_unet
from rockzoom.sr_data import make_pairs
from rockzoom.upscale import Upscaler, build_upscaler, pick_device, upscale_tiled

KIND = "refiner"
PREDICTIONS = ("v", "eps")
COSINE_S = 0.008
TRAIN_KEYS = ("patch", "val_images", "val_sample_steps", "engine")


# ---------------------------------------------------------------- schedule and parameterisation
def alpha_bar(t: torch.Tensor, s: float = COSINE_S) -> torch.Tensor:
    """Cosine schedule: signal fraction alpha_bar(t) for t in [0, 1] (1 at t=0, exactly 0 at t=1)."""
    t = t.clamp(0.0, 1.0).double()
    f = torch.cos((t + s) / (1 + s) * math.pi / 2) ** 2
    f0 = math.cos(s / (1 + s) * math.pi / 2) ** 2
    return (f / f0).clamp(0.0, 1.0).float()


def _bcast(a: torch.Tensor) -> torch.Tensor:
    return a.reshape(-1, 1, 1, 1)


def q_sample(x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    ab = _bcast(alpha_bar(t).to(x0.device))
    return ab.sqrt() * x0 + (1 - ab).sqrt() * noise


def target_of(x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor, prediction: str) -> torch.Tensor:
    if prediction == "eps":
        return noise
    ab = _bcast(alpha_bar(t).to(x0.device))
    return ab.sqrt() * noise - (1 - ab).sqrt() * x0


def x0_from_prediction(x_t: torch.Tensor, pred: torch.Tensor, t: torch.Tensor, prediction: str) -> torch.Tensor:
    ab = _bcast(alpha_bar(t).to(x_t.device))
    if prediction == "v":
        return ab.sqrt() * x_t - (1 - ab).sqrt() * pred
    return (x_t - (1 - ab).sqrt() * pred) / ab.sqrt().clamp_min(1e-4)


def ddim_times(steps: int) -> list[float]:
    if steps < 1:
        raise ValueError(f"DDIM needs at least 1 step, got {steps}")
    return [1.0 - i / steps for i in range(steps + 1)]


# ---------------------------------------------------------------- patch-wise network evaluation
def _starts(length: int, patch: int, overlap: int) -> list[int]:
    if length <= patch:
        return [0]
    stride = patch - overlap
    starts = list(range(0, length - patch, stride))
    return starts + [length - patch]


def _ramp(length: int, start: int, total: int, overlap: int) -> torch.Tensor:
    """1-D blending weight of a patch along one axis.

    At an edge shared with a neighbouring patch the weight is 0 over the outer ``overlap // 4`` px (predictions
    there see the patch's zero padding), then ramps linearly to 1 over the middle half of the overlap; the ramps of
    two neighbours sum to exactly 1. Edges on the image border keep weight 1.
    """
    w = torch.ones(length)
    if overlap <= 0:
        return w
    margin = overlap // 4
    d = torch.arange(length, dtype=torch.float32)
    ramp = ((d + 0.5 - margin) / (overlap - 2 * margin)).clamp(0.0, 1.0)
    if start > 0:
        w = torch.minimum(w, ramp)
    if start + length < total:
        w = torch.minimum(w, ramp.flip(0))
    return w


def _pad_to_multiple(x: torch.Tensor, multiple: int) -> tuple[torch.Tensor, int, int]:
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        x = F.pad(x, (0, pw, 0, ph), mode="replicate")
    return x, h, w


def predict_patched(model: nn.Module, x_t: torch.Tensor, cond: torch.Tensor, t: float, patch: int, overlap: int,
                    batch: int = 4, autocast=None) -> torch.Tensor:
    """The network's prediction for a whole (1, 3, H, W) image, from overlapping ``patch``² windows cross-faded."""
    multiple = getattr(model, "size_multiple", 1)
    if patch % multiple:
        raise ValueError(f"patch {patch} must be a multiple of the net's size multiple {multiple}")
    if not 0 <= overlap < patch:
        raise ValueError(f"overlap must be in [0, patch), got overlap={overlap} patch={patch}")
    autocast = autocast or nullcontext()
    h, w = x_t.shape[-2:]
    x_t, _, _ = _pad_to_multiple(x_t, multiple)
    cond, _, _ = _pad_to_multiple(cond, multiple)
    ph, pw = x_t.shape[-2:]
    patch_h, patch_w = min(patch, ph), min(patch, pw)  # a dimension shorter than the patch runs whole
    windows = [(y, x) for y in _starts(ph, patch_h, overlap) for x in _starts(pw, patch_w, overlap)]
    acc = torch.zeros(1, x_t.shape[1], ph, pw, device=x_t.device)
    norm = torch.zeros(1, 1, ph, pw, device=x_t.device)
    for i in range(0, len(windows), batch):
        chunk = windows[i:i + batch]
        xs = torch.cat([x_t[..., y:y + patch_h, x:x + patch_w] for y, x in chunk])
        cs = torch.cat([cond[..., y:y + patch_h, x:x + patch_w] for y, x in chunk])
        with autocast:
            out = model(xs, cs, torch.full((len(chunk),), t, device=x_t.device)).float()
        for j, (y, x) in enumerate(chunk):
            weight = (_ramp(patch_h, y, ph, overlap)[:, None] * _ramp(patch_w, x, pw, overlap)[None]).to(x_t.device)
            acc[..., y:y + patch_h, x:x + patch_w] += out[j:j + 1] * weight
            norm[..., y:y + patch_h, x:x + patch_w] += weight
    return (acc / norm)[..., :h, :w]


@torch.no_grad()
def ddim_refine(model: nn.Module, up: torch.Tensor, *, residual_scale: float, prediction: str, steps: int,
                noise: torch.Tensor, eta: float = 0.0, eta_generator: torch.Generator | None = None,
                patch: int = 128, overlap: int = 32, batch: int = 4, bf16: bool = True) -> torch.Tensor:
    """DDIM from t=1 to 0 on the residual; ``up`` (1, 3, H, W) in [0, 1] -> refined (1, 3, H, W) in [0, 1]."""
    device = up.device
    use_bf16 = bf16 and device.type == "cuda"
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if use_bf16 else None
    lo, hi = (0.0 - up) / residual_scale, (1.0 - up) / residual_scale  # x0 range that keeps up + r in [0, 1]
    x = noise.to(device).float()
    times = ddim_times(steps)
    x0 = x
    for t, s in zip(times[:-1], times[1:]):
        tt, ss = torch.tensor([t], device=device), torch.tensor([s], device=device)
        pred = predict_patched(model, x, up, t, patch, overlap, batch, autocast)
        x0 = torch.maximum(torch.minimum(x0_from_prediction(x, pred, tt, prediction), hi), lo)
        ab_t, ab_s = alpha_bar(tt).item(), alpha_bar(ss).item()
        eps = (x - math.sqrt(ab_t) * x0) / math.sqrt(max(1.0 - ab_t, 1e-12))
        sigma = 0.0
        if eta > 0 and ab_t < 1.0:
            sigma = eta * math.sqrt((1 - ab_s) / max(1 - ab_t, 1e-12) * max(1 - ab_t / max(ab_s, 1e-12), 0.0))
        x = math.sqrt(ab_s) * x0 + math.sqrt(max(1 - ab_s - sigma * sigma, 0.0)) * eps
        if sigma > 0:
            x = x + sigma * torch.randn(x.shape, generator=eta_generator).to(device)
    return (up + residual_scale * x0).clamp(0.0, 1.0)


def image_seed(seed: int, image: np.ndarray) -> int:
    """A noise seed from (seed, the image's uint8 pixels): order-independent, different for different images."""
    u8 = np.rint(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)
    return (int(seed) * 1_000_003 + zlib.crc32(u8.tobytes())) % (2**63)


# ---------------------------------------------------------------- inference wrappers
class Refiner(Upscaler):
    """A trained refiner as a scale-1 ``Upscaler``: float32 (H, W, 3) [0,1] -> refined image of the same size."""

    def __init__(self, model: nn.Module, *, residual_scale: float, prediction: str, steps: int = 8,
                 eta: float = 0.0, seed: int = 0, patch: int = 128, overlap: int = 32, batch: int = 4,
                 device: str = "auto", name: str = "refine"):
        if prediction not in PREDICTIONS:
            raise ValueError(f"prediction must be one of {PREDICTIONS}, got {prediction!r}")
        self.device = pick_device(device)
        self.model = model.to(self.device).eval()
        self.residual_scale, self.prediction = float(residual_scale), prediction
        self.steps, self.eta, self.seed = int(steps), float(eta), int(seed)
        self.patch, self.overlap, self.batch = int(patch), int(overlap), int(batch)
        self.scale, self.name = 1, f"{name} ({self.steps} steps)"

    @classmethod
    def from_checkpoint(cls, path: str | Path, *, steps: int = 8, eta: float = 0.0, seed: int = 0, patch: int = 128,
                        overlap: int = 32, batch: int = 4, device: str = "auto", name: str | None = None) -> "Refiner":
        payload = require_kind(load_checkpoint(path), KIND, path)
        model = build_refiner_unet(**payload["model_kwargs"])
        model.load_state_dict(payload["state_dict"])
        diffusion = payload["config"]["diffusion"]
        return cls(model, residual_scale=diffusion["residual_scale"], prediction=diffusion["prediction"],
                   steps=steps, eta=eta, seed=seed, patch=patch, overlap=overlap, batch=batch, device=device,
                   name=name or "refine")

    def refine(self, image: np.ndarray, seed: int | None = None) -> np.ndarray:
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"image must be (H, W, 3), got {image.shape}")
        image = image.astype(np.float32) / 255.0 if image.dtype == np.uint8 else image.astype(np.float32)
        noise_seed = image_seed(self.seed if seed is None else seed, image)
        gen = torch.Generator().manual_seed(noise_seed)
        noise = torch.randn((1, 3, *image.shape[:2]), generator=gen)
        up = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))[None].to(self.device)
        out = ddim_refine(self.model, up, residual_scale=self.residual_scale, prediction=self.prediction,
                          steps=self.steps, noise=noise, eta=self.eta, eta_generator=gen, patch=self.patch,
                          overlap=self.overlap, batch=self.batch)
        return out[0].permute(1, 2, 0).cpu().numpy()

    def upscale(self, image: np.ndarray) -> np.ndarray:
        return self.refine(image)


class RefinedUpscaler(Upscaler):
    """Any upscaler (run tiled, seam-free) followed by the refiner on the whole upscaled image.

    Call ``upscale`` on the whole image: wrapped in ``upscale_tiled`` each tile would get its own noise field.
    """

    def __init__(self, upscaler: Upscaler, refiner: Refiner, tile: int = 256, overlap: int = 16):
        self.upscaler, self.refiner, self.tile, self.overlap = upscaler, refiner, tile, overlap
        self.scale = upscaler.scale
        self.name = f"{upscaler.name} + {refiner.name}"
        self.device = refiner.device

    def upscale(self, image: np.ndarray) -> np.ndarray:
        up = upscale_tiled(self.upscaler, image, tile=self.tile, overlap=self.overlap) \
            if self.upscaler.scale > 1 else self.upscaler.upscale(image)
        return self.refiner.refine(up)


# ---------------------------------------------------------------- training
def upscaler_spec(upscaler: str, scale: int, sr_model: str | Path | None) -> dict:
    """build_upscaler arguments for the condition: a classical method name, or 'sr' with a checkpoint."""
    if upscaler in ("bicubic", "lanczos"):
        return {"method": upscaler, "scale": scale}
    if sr_model is None:
        raise ValueError(f"refiner condition {upscaler!r} is an SR net: it needs its checkpoint (sr_model)")
    return {"checkpoint": str(sr_model), "scale": scale}


def upscale_all(upscaler: Upscaler, lr_uint8: np.ndarray) -> np.ndarray:
    """Upscale every LR image once -> uint8 (N, H, W, 3) (the refiner's training condition)."""
    out = [np.rint(upscaler.upscale(im.astype(np.float32) / 255.0) * 255.0).astype(np.uint8) for im in lr_uint8]
    return np.stack(out)


class RefinerTask(TrainTask):
    kind = KIND
    val_key = "val_neg_loss"

    def __init__(self, hr: np.ndarray, mask: np.ndarray, up: np.ndarray, val_hr: np.ndarray, val_mask: np.ndarray,
                 val_up: np.ndarray, *, net: dict, prediction: str, residual_scale: float, patch: int,
                 val_sample_steps: int = 0, hf_cutoff: float = 0.25, seed: int = 0):
        if prediction not in PREDICTIONS:
            raise ValueError(f"prediction must be one of {PREDICTIONS}, got {prediction!r}")
        if patch > min(hr.shape[1:3]):
            raise ValueError(f"refiner patch {patch} is larger than the HR images {hr.shape[1:3]}")
        self.hr, self.mask, self.up = hr, mask, up
        self.net, self.prediction, self.residual_scale = dict(net), prediction, float(residual_scale)
        self.patch, self.val_sample_steps, self.hf_cutoff = int(patch), int(val_sample_steps), float(hf_cutoff)
        self._val = self._fixed_val_batch(val_hr, val_mask, val_up, seed)

    def build_model(self) -> nn.Module:
        return build_refiner_unet(**self.net)

    def model_kwargs(self) -> dict:
        return dict(self.net)

    def _crop(self, arrays, idx, ys, xs):
        p = self.patch
        return [np.stack([a[i, y:y + p, x:x + p] for i, y, x in zip(idx, ys, xs)]) for a in arrays]

    def sample_batch(self, step, generator, batch_size):
        n, h, w = self.hr.shape[:3]
        p = self.patch
        idx = torch.randint(0, n, (batch_size,), generator=generator).tolist()
        ys = torch.randint(0, h - p + 1, (batch_size,), generator=generator).tolist()
        xs = torch.randint(0, w - p + 1, (batch_size,), generator=generator).tolist()
        hr, up, mask = self._crop((self.hr, self.up, self.mask), idx, ys, xs)
        hr_t = torch.from_numpy(hr).permute(0, 3, 1, 2).float().div_(255.0)
        up_t = torch.from_numpy(up).permute(0, 3, 1, 2).float().div_(255.0)
        mask_t = torch.from_numpy(mask)[:, None].float()
        hr_t, up_t, mask_t = random_dihedral(hr_t, up_t, mask_t, generator=generator)
        t = torch.rand(batch_size, generator=generator)
        noise = torch.randn(hr_t.shape, generator=generator)
        return {"hr": hr_t, "up": up_t, "mask": mask_t, "t": t, "noise": noise}

    def _loss(self, model, batch) -> torch.Tensor:
        x0 = (batch["hr"] - batch["up"]) / self.residual_scale
        x_t = q_sample(x0, batch["t"], batch["noise"])
        pred = model(x_t, batch["up"], batch["t"]).float()
        err = (pred - target_of(x0, batch["noise"], batch["t"], self.prediction)) ** 2 * batch["mask"]
        return err.sum() / (batch["mask"].sum() * 3).clamp_min(1.0)

    def loss(self, model, batch, step):
        return self._loss(model, batch), {}

    def _fixed_val_batch(self, hr, mask, up, seed) -> dict[str, torch.Tensor]:
        """Centre crops of the val images at 5 fixed times each, with fixed noise: a low-variance val loss."""
        p = self.patch
        y0, x0 = (hr.shape[1] - p) // 2, (hr.shape[2] - p) // 2
        times = torch.tensor([0.1, 0.3, 0.5, 0.7, 0.9])
        crop = lambda a: torch.from_numpy(np.ascontiguousarray(a[:, y0:y0 + p, x0:x0 + p]))  # noqa: E731
        hr_t = crop(hr).permute(0, 3, 1, 2).float().div_(255.0).repeat_interleave(len(times), 0)
        up_t = crop(up).permute(0, 3, 1, 2).float().div_(255.0).repeat_interleave(len(times), 0)
        mask_t = crop(mask)[:, None].float().repeat_interleave(len(times), 0)
        t = times.repeat(len(hr))
        noise = torch.randn(hr_t.shape, generator=torch.Generator().manual_seed(seed + 12345))
        return {"hr": hr_t, "up": up_t, "mask": mask_t, "t": t, "noise": noise}

    def validate(self, model):
        device = next(model.parameters()).device
        total, count = 0.0, 0
        for i in range(0, len(self._val["t"]), 16):
            chunk = {k: v[i:i + 16].to(device) for k, v in self._val.items()}
            weight = float(chunk["mask"].sum())
            total += float(self._loss(model, chunk)) * weight
            count += weight
        val_loss = total / max(count, 1.0)
        metrics = {"val_neg_loss": -val_loss, "val_loss": val_loss}
        if self.val_sample_steps > 0:
            metrics.update(self._sample_metrics(model, device))
        return metrics

    def _sample_metrics(self, model, device) -> dict[str, float]:
        """PSNR and HF ratio (energy above ``hf_cutoff`` cycles/px) of DDIM-refined val crops beside the condition."""
        hr, mask, up = (self._val[k][::5] for k in ("hr", "mask", "up"))
        refined = []
        for i in range(len(hr)):
            noise = torch.randn((1, *hr.shape[1:]), generator=torch.Generator().manual_seed(i))
            refined.append(ddim_refine(model, up[i:i + 1].to(device), residual_scale=self.residual_scale,
                                       prediction=self.prediction, steps=self.val_sample_steps, noise=noise,
                                       patch=self.patch, overlap=0).cpu())
        to_np = lambda t: t.permute(0, 2, 3, 1).numpy()  # noqa: E731
        ref, hr_np, up_np, m = to_np(torch.cat(refined)), to_np(hr), to_np(up), mask[:, 0].numpy().astype(bool)
        return {"val_psnr_refined": evaluate(ref, hr_np, m, with_ssim=False)["psnr_pooled"],
                "val_psnr_condition": evaluate(up_np, hr_np, m, with_ssim=False)["psnr_pooled"],
                "val_hf_ratio_refined": hf_energy_ratio(ref, hr_np, cutoff=self.hf_cutoff),
                "val_hf_ratio_condition": hf_energy_ratio(up_np, hr_np, cutoff=self.hf_cutoff)}


def residual_std(hr: np.ndarray, up: np.ndarray, mask: np.ndarray) -> float:
    """Std of HR - up over valid pixels (float64 accumulation, image by image)."""
    s = ss = n = 0.0
    for i in range(len(hr)):
        r = (hr[i].astype(np.float64) - up[i].astype(np.float64))[mask[i]] / 255.0
        s, ss, n = s + r.sum(), ss + (r * r).sum(), n + r.size
    mean = s / max(n, 1)
    return float(math.sqrt(max(ss / max(n, 1) - mean * mean, 1e-12)))


def check_train_config(train_cfg: dict) -> None:
    missing = [k for k in TRAIN_KEYS if k not in train_cfg]
    if missing:
        raise KeyError(f"refiner train config lacks keys {missing} (has {sorted(train_cfg)})")


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def default_state_dir(model_out: str | Path) -> Path:
    folder = Path(model_out).parent
    return folder.with_name(folder.name + ".state")


def train_refiner(data_dir: str | Path, *, model_out: str | Path, metrics_csv: str | Path, curve_png: str | Path,
                  scale: int, upscaler: str, net: dict, prediction: str, train_cfg: dict, seed: int,
                  sr_model: str | Path | None = None, state_dir: str | Path | None = None, gpus: int = 0,
                  log: Callable[[str], None] = print, **engine_kwargs) -> TrainResult:
    """Train the refiner on (``upscaler``(LR), real HR) pairs of ``data_dir``'s train split; select on val.

    ``upscaler``: 'bicubic', 'lanczos', or the name of an SR net whose checkpoint is ``sr_model``. The resumable
    state lives in ``state_dir`` (default ``<model_out's folder>.state``), which is not an output.
    """
    check_train_config(train_cfg)
    acquire_gpus(gpus, log=log)
    summary = load_summary(data_dir)
    if "manifest_hash" not in summary:
        raise KeyError(f"{Path(data_dir) / 'summary.json'}: no 'manifest_hash' key")
    spec = upscaler_spec(upscaler, scale, sr_model)
    cond_up = build_upscaler(**spec)
    train_pairs = make_pairs(load_split(data_dir, "train"), scale)
    val_pairs = make_pairs(load_split(data_dir, "val"), scale, limit=train_cfg["val_images"])
    up = upscale_all(cond_up, train_pairs.lr)
    val_up = upscale_all(cond_up, val_pairs.lr)
    rs = round(residual_std(train_pairs.hr, up, train_pairs.hr_mask), 5)
    log(f"refiner x{scale} after {upscaler}: {len(train_pairs)} train, {len(val_pairs)} val images of "
        f"{train_pairs.hr.shape[1]} px; residual std {rs:.4f}")
    task = RefinerTask(train_pairs.hr, train_pairs.hr_mask, up, val_pairs.hr, val_pairs.hr_mask, val_up, net=net,
                       prediction=prediction, residual_scale=rs, patch=train_cfg["patch"],
                       val_sample_steps=train_cfg["val_sample_steps"], hf_cutoff=0.5 / scale, seed=seed)
    data_hash = summary["manifest_hash"] + (f"+sr:{file_sha256(sr_model)[:16]}" if "checkpoint" in spec else "")
    stage_config = {"scale": scale, "upscaler": upscaler, "net": dict(net),
                    "diffusion": {"prediction": prediction, "residual_scale": rs, "schedule": "cosine",
                                  "cosine_s": COSINE_S},
                    "train": json.loads(json.dumps(train_cfg)), "seed": seed}
    cfg = EngineConfig.from_dict({"seed": seed, **train_cfg["engine"]})
    return train(task, cfg, model_out=model_out, state_dir=state_dir or default_state_dir(model_out),
                 metrics_csv=metrics_csv, curve_png=curve_png, stage_config=stage_config, data_hash=data_hash,
                 log=log, **engine_kwargs)
