"""The refiner's training task: masked MSE on the v (or eps) target of the residual HR - up, t ~ U(0, 1)."""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from rockzoom.engine import TrainTask
from rockzoom.engine.augment import random_dihedral
from rockzoom.metrics.fidelity import evaluate
from rockzoom.metrics.spectrum import hf_energy_ratio
from rockzoom.models.registry import REFINER_NETS
from rockzoom.refiner.inference import KIND
from rockzoom.refiner.sampler import ddim_refine
from rockzoom.refiner.schedule import PREDICTIONS, q_sample, target_of


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
        return REFINER_NETS.build("unet", **self.net)

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
