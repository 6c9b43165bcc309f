"""GAN fine-tuning of a trained SR net (ESRGAN-style, without a pretrained perceptual network).

Starts from the PSNR model's weights and adds: a relativistic average discriminator (RaGAN) on patches, an
adversarial term for the generator, and a focal-frequency-style L1 loss on FFT magnitudes that rewards the right
amount of fine detail; the Charbonnier pixel term keeps colours anchored. The discriminator and its optimizer are
part of the resumable state. The kept model is the one whose power spectrum is closest to the real HR
(``val_texture_score`` = -spectrum distance in dB); PSNR is logged beside it.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from rockzoom.engine import TrainResult, train
from rockzoom.engine.state import state_dir_for
from rockzoom.metrics.spectrum import hf_energy_ratio, spectrum_distance
from rockzoom.models.discriminator import PatchDiscriminator
from rockzoom.superres.train import (
    TRAIN_KEYS,
    SRPairs,
    SRTask,
    check_train_config,
    degrade_as_trained,
    engine_config,
    load_pairs,
    masked_charbonnier,
    trained_lr_source,
)
from rockzoom.util.checkpoint import load_checkpoint, require_kind
from rockzoom.util.devices import acquire_gpus

logger = logging.getLogger(__name__)

GAN_KEYS = ("pixel_weight", "adversarial_weight", "frequency_weight", "d_lr", "d_feats")


def relativistic_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor, real_is_real: bool) -> torch.Tensor:
    """RaGAN: real should look more real than the average fake and vice versa (swap roles for the generator)."""
    real_rel = real_logits - fake_logits.mean()
    fake_rel = fake_logits - real_logits.mean()
    ones, zeros = torch.ones_like(real_rel), torch.zeros_like(fake_rel)
    if real_is_real:
        return (F.binary_cross_entropy_with_logits(real_rel, ones)
                + F.binary_cross_entropy_with_logits(fake_rel, zeros)) / 2
    return (F.binary_cross_entropy_with_logits(real_rel, zeros)
            + F.binary_cross_entropy_with_logits(fake_rel, ones)) / 2


def frequency_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """L1 distance of FFT magnitudes (orthonormal), so under- and over-sharpening both cost."""
    return (torch.fft.rfft2(pred.float(), norm="ortho").abs() - torch.fft.rfft2(target, norm="ortho").abs()).abs().mean()


class SRGanTask(SRTask):
    kind = "sr_gan"
    val_key = "val_texture_score"

    def __init__(self, train_pairs: SRPairs, val_pairs: SRPairs, psnr_model: dict, lr_patch: int,
                 charbonnier_eps: float, gan: dict):
        missing = [k for k in GAN_KEYS if k not in gan]
        if missing:
            raise KeyError(f"GAN config lacks keys {missing}")
        kwargs = dict(psnr_model["model_kwargs"])
        if kwargs.pop("scale") != train_pairs.scale:
            raise ValueError(f"PSNR model is x{psnr_model['model_kwargs']['scale']}, pairs are x{train_pairs.scale}")
        super().__init__(train_pairs, val_pairs, kwargs, lr_patch, charbonnier_eps)
        self.psnr_state, self.gan = psnr_model["state_dict"], dict(gan)
        self.discriminator: nn.Module | None = None
        self.d_optimizer: torch.optim.Optimizer | None = None

    def build_model(self) -> nn.Module:
        model = super().build_model()
        model.load_state_dict(self.psnr_state)
        self.discriminator = PatchDiscriminator(self.gan["d_feats"])
        self.d_optimizer = torch.optim.Adam(self.discriminator.parameters(), lr=self.gan["d_lr"], betas=(0.9, 0.99))
        return model

    def on_train_start(self, model, device):
        self.discriminator.to(device)
        for state in self.d_optimizer.state.values():
            for k, v in state.items():
                if torch.is_tensor(v):
                    state[k] = v.to(device)

    def loss(self, model, batch, step):
        lr, hr, mask = batch["lr"], batch["hr"], batch["mask"]
        fake = model(lr)
        # no-data pixels are taken from the target so the discriminator cannot key on them
        fake_for_d = fake * mask + hr * (1 - mask)
        d = self.discriminator
        d.requires_grad_(True)
        loss_d = relativistic_loss(d(hr), d(fake_for_d.detach()), real_is_real=True)
        self.d_optimizer.zero_grad(set_to_none=True)
        loss_d.backward()
        self.d_optimizer.step()

        d.requires_grad_(False)
        loss_adv = relativistic_loss(d(hr).detach(), d(fake_for_d), real_is_real=False)
        loss_pix = masked_charbonnier(fake, hr, mask, self.eps)
        loss_freq = frequency_loss(fake * mask, hr * mask)
        g = self.gan
        total = g["pixel_weight"] * loss_pix + g["adversarial_weight"] * loss_adv + g["frequency_weight"] * loss_freq
        return total, {"loss_pix": loss_pix.item(), "loss_adv": loss_adv.item(), "loss_freq": loss_freq.item(),
                       "loss_d": loss_d.item()}

    def validate(self, model):
        metrics = super().validate(model)
        preds, hr = self.last_val_preds, self.val_pairs.hr
        distance = spectrum_distance(preds, hr)
        metrics.update({"val_spectrum_distance": distance,
                        "val_hf_ratio": hf_energy_ratio(preds, hr, cutoff=0.5 / self.scale),
                        "val_texture_score": -distance})
        return metrics

    def extra_state(self) -> dict:
        return {"discriminator": self.discriminator.state_dict(), "d_optimizer": self.d_optimizer.state_dict()}

    def load_extra_state(self, state: dict) -> None:
        if not state:
            return
        self.discriminator.load_state_dict(state["discriminator"])
        self.d_optimizer.load_state_dict(state["d_optimizer"])
        self.on_train_start(None, next(self.discriminator.parameters()).device)


def finetune_sr_gan(data_dir: str | Path, psnr_model: str | Path, *, model_out: str | Path, metrics_csv: str | Path,
                    curve_png: str | Path, train_cfg: dict, gan: dict, seed: int, state_dir: str | Path | None = None,
                    gpus: int = 0, index_csv: str | Path | None = None, **engine_kwargs) -> TrainResult:
    """Fine-tune the PSNR-trained SR model at ``psnr_model`` adversarially; writes an ``sr_gan`` checkpoint.
    Its LR images are of the kind the PSNR model was trained on (its ``lr_source``; ``index_csv`` for ``pyramid``)."""
    check_train_config(train_cfg, keys=tuple(k for k in TRAIN_KEYS if k != "lr_source"))
    acquire_gpus(gpus)
    payload = require_kind(load_checkpoint(psnr_model), "sr", psnr_model)
    scale = int(payload["model_kwargs"]["scale"])
    lr_source = trained_lr_source(payload)
    train_pairs, val_pairs, data_hash = load_pairs(data_dir, scale, train_cfg["val_images"], lr_source, index_csv)
    train_pairs, val_pairs = degrade_as_trained((train_pairs, val_pairs), payload, seed)  # the PSNR model's LR
    task = SRGanTask(train_pairs, val_pairs, payload, train_cfg["lr_patch"], train_cfg["charbonnier_eps"], gan)
    stage_config = {"scale": scale, "psnr_model_step": payload["step"], "psnr_model_best_val": payload["best_val"],
                    "net": payload["model_kwargs"], "train": json.loads(json.dumps(train_cfg)), "gan": dict(gan),
                    "seed": seed}
    return train(task, engine_config(train_cfg, seed), model_out=model_out,
                 state_dir=state_dir or state_dir_for(model_out), metrics_csv=metrics_csv, curve_png=curve_png,
                 stage_config=stage_config, data_hash=data_hash, **engine_kwargs)
