"""The perceptual x k fine-tune: a PSNR-trained SR net taught to draw real rock detail (``kind: perceptual``).

Starts from the PSNR checkpoint (same net, same LR kind: the tree's own coarser zoom) and trains it with the shared
engine on a sum of weighted terms (``sr.perceptual`` in the config; a weight of 0 turns a term off):

- ``pixel``: Charbonnier to the real HR (keeps colours and layout);
- ``ldl``: the same pixel error weighted by LDL's artifact map (``texture_losses.artifact_map``; the EMA copy it
  compares with is part of the resumable state);
- ``lr``: LR consistency, the output box-averaged x k against the input;
- ``adversarial``: a relativistic average GAN against a small spectral-norm patch discriminator
  (``models.discriminator.PatchDiscriminator``, ``d_down`` stride-2 convs: receptive field 22 px at 2, 46 at 3) that
  sees ``d_view``: the pixels, their high-pass (the image minus its Gaussian blur of sigma 2 px, the realism judge's
  view of fine detail, as SPSR's gradient-space discriminator sees edges) or both stacked;
- ``swd``, ``gram``, ``fft``: weight-free texture losses (patch sliced Wasserstein, random-CNN Gram, FFT amplitude);
- ``grid``: the period-k pattern a pixel-shuffle head learns to add to every block (``block_phase_loss``).

The kept model is the validated one of lowest spectrum distance to the real HR among those whose validation PSNR
is not below bicubic's (``val_texture_score``; a model below bicubic scores ``-1000 - distance``).
"""
from __future__ import annotations

import copy
import json
import logging
from pathlib import Path

import torch
from torch import nn

from rockzoom.engine import TrainResult, train
from rockzoom.engine.state import state_dir_for
from rockzoom.metrics.judges import highpass
from rockzoom.metrics.spectrum import hf_energy_ratio, spectrum_distance
from rockzoom.models.discriminator import PatchDiscriminator
from rockzoom.superres.data import SRPairs
from rockzoom.superres.gan import relativistic_loss
from rockzoom.superres.texture_losses import (
    RandomGramNet,
    artifact_map,
    block_phase_loss,
    ema_update,
    frequency_loss,
    gram_loss,
    lr_consistency_loss,
    patch_swd,
)
from rockzoom.superres.train import (
    TRAIN_KEYS,
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

KIND = "sr_perceptual"
WEIGHTS = ("pixel_weight", "ldl_weight", "lr_weight", "adversarial_weight", "swd_weight", "gram_weight", "fft_weight",
           "grid_weight")
PERCEPTUAL_KEYS = WEIGHTS + ("d_lr", "d_feats", "d_down", "d_view", "ldl_ema_decay", "swd_patch", "swd_projections")
D_VIEWS = ("full", "highpass", "both")
HIGHPASS_GAIN = 4.0  # the high-pass of [0, 1] images spans about +-0.25: brought to the discriminator's range
BELOW_BICUBIC = -1000.0  # added to the score of a model whose validation PSNR is below bicubic's


class PerceptualSRTask(SRTask):
    kind = KIND
    val_key = "val_texture_score"
    validate_initial = True  # step 0 = the PSNR model, the curve's first point

    def __init__(self, train_pairs: SRPairs, val_pairs: SRPairs, psnr_model: dict, lr_patch: int,
                 charbonnier_eps: float, settings: dict):
        missing = [k for k in PERCEPTUAL_KEYS if k not in settings]
        if missing:
            raise KeyError(f"sr.perceptual lacks keys {missing}")
        kwargs = dict(psnr_model["model_kwargs"])
        if kwargs.pop("scale") != train_pairs.scale:
            raise ValueError(f"PSNR model is x{psnr_model['model_kwargs']['scale']}, pairs are x{train_pairs.scale}")
        super().__init__(train_pairs, val_pairs, kwargs, lr_patch, charbonnier_eps)
        self.psnr_state, self.s = psnr_model["state_dict"], {k: settings[k] for k in PERCEPTUAL_KEYS}
        self.discriminator: nn.Module | None = None
        self.d_optimizer: torch.optim.Optimizer | None = None
        self.ema: nn.Module | None = None
        self.gram_net = RandomGramNet()

    def build_model(self) -> nn.Module:
        model = super().build_model()
        model.load_state_dict(self.psnr_state)
        self.ema = copy.deepcopy(model).eval().requires_grad_(False)
        if self.s["d_view"] not in D_VIEWS:
            raise ValueError(f"sr.perceptual.d_view is {self.s['d_view']!r}; expected one of {D_VIEWS}")
        channels = 6 if self.s["d_view"] == "both" else 3
        self.discriminator = PatchDiscriminator(self.s["d_feats"], n_down=self.s["d_down"], in_channels=channels)
        self.d_optimizer = torch.optim.Adam(self.discriminator.parameters(), lr=self.s["d_lr"], betas=(0.9, 0.99))
        return model

    def on_train_start(self, model, device):
        for net in (self.discriminator, self.ema, self.gram_net):
            net.to(device)
        for state in self.d_optimizer.state.values():
            for k, v in state.items():
                if torch.is_tensor(v):
                    state[k] = v.to(device)

    def _generator(self) -> torch.Generator:
        # the engine seeds torch from (seed, step) before each loss: draw the SWD projections from it
        return torch.Generator().manual_seed(int(torch.randint(0, 2**62, (1,)).item()))

    def loss(self, model, batch, step):
        s, w = self.s, self.s
        lr, hr, mask = batch["lr"], batch["hr"], batch["mask"]
        raw = model.module if hasattr(model, "module") else model
        if step > 0:
            ema_update(self.ema, raw, s["ldl_ema_decay"])
        fake = model(lr)
        fake_m = fake * mask + hr * (1 - mask)  # no loss or discriminator keys on no-data pixels
        terms: dict[str, torch.Tensor] = {}
        logs: dict[str, float] = {}

        if w["adversarial_weight"] > 0:
            d = self._seen_by_discriminator  # the discriminator through d_view
            self.discriminator.requires_grad_(True)
            loss_d = relativistic_loss(d(hr), d(fake_m.detach()), real_is_real=True)
            self.d_optimizer.zero_grad(set_to_none=True)
            loss_d.backward()
            self.d_optimizer.step()
            self.discriminator.requires_grad_(False)
            terms["adversarial"] = relativistic_loss(d(hr).detach(), d(fake_m), real_is_real=False)
            logs["loss_d"] = loss_d.item()
        if w["pixel_weight"] > 0:
            terms["pixel"] = masked_charbonnier(fake, hr, mask, self.eps)
        if w["ldl_weight"] > 0:
            with torch.no_grad():
                fake_ema = self.ema(lr)
            weight = artifact_map(hr, fake.detach(), fake_ema) * mask
            terms["ldl"] = ((fake - hr).abs() * weight).sum() / (mask.sum() * fake.shape[1]).clamp_min(1.0)
        if w["lr_weight"] > 0:
            lr_mask = torch.nn.functional.avg_pool2d(mask, self.scale).eq(1).float()
            terms["lr"] = lr_consistency_loss(fake, lr, self.scale, lr_mask)
        if w["swd_weight"] > 0:
            terms["swd"] = patch_swd(fake_m, hr, patch=s["swd_patch"], projections=s["swd_projections"],
                                     generator=self._generator())
        if w["gram_weight"] > 0:
            terms["gram"] = gram_loss(self.gram_net, fake_m, hr)
        if w["fft_weight"] > 0:
            terms["fft"] = frequency_loss(fake_m, hr)
        if w["grid_weight"] > 0:
            terms["grid"] = block_phase_loss(fake_m, hr, self.scale)
        total = sum(w[f"{name}_weight"] * value for name, value in terms.items())
        logs.update({f"loss_{name}": value.item() for name, value in terms.items()})
        return total, logs

    def _seen_by_discriminator(self, x: torch.Tensor) -> torch.Tensor:
        """The discriminator's logits for images ``x`` (B,3,H,W in [0, 1]) seen through ``d_view``."""
        view = self.s["d_view"]
        if view == "full":
            return self.discriminator(x)
        high = 0.5 + HIGHPASS_GAIN * highpass(x)  # the discriminator maps [0, 1] to +-1
        return self.discriminator(high if view == "highpass" else torch.cat([x, high], 1))

    def validate(self, model):
        metrics = super().validate(model)
        preds, hr = self.last_val_preds, self.val_pairs.hr
        lr = torch.from_numpy(preds).permute(0, 3, 1, 2)
        lr_back = torch.nn.functional.avg_pool2d(lr, self.scale).permute(0, 2, 3, 1).numpy()
        lr_true = self.val_pairs.lr.astype("float32") / 255.0
        mse = float(((lr_back - lr_true) ** 2).mean())
        distance = spectrum_distance(preds, hr)
        below = metrics["val_psnr"] < metrics["val_psnr_bicubic"]
        metrics.update({"val_spectrum_distance": distance,
                        "val_hf_ratio": hf_energy_ratio(preds, hr, cutoff=0.5 / self.scale),
                        "val_lr_psnr": 10.0 * torch.log10(torch.tensor(1.0 / max(mse, 1e-12))).item(),
                        "val_texture_score": -distance + (BELOW_BICUBIC if below else 0.0)})
        return metrics

    def extra_state(self) -> dict:
        return {"discriminator": self.discriminator.state_dict(), "d_optimizer": self.d_optimizer.state_dict(),
                "ldl_ema": self.ema.state_dict()}

    def load_extra_state(self, state: dict) -> None:
        if not state:
            return
        self.discriminator.load_state_dict(state["discriminator"])
        self.d_optimizer.load_state_dict(state["d_optimizer"])
        self.ema.load_state_dict(state["ldl_ema"])
        self.on_train_start(None, next(self.discriminator.parameters()).device)


def finetune_sr_perceptual(data_dir: str | Path, psnr_model: str | Path, *, model_out: str | Path,
                           metrics_csv: str | Path, curve_png: str | Path, settings: dict, seed: int,
                           state_dir: str | Path | None = None, gpus: int = 0, index_csv: str | Path | None = None,
                           **engine_kwargs) -> TrainResult:
    """Fine-tune the PSNR model at ``psnr_model`` into a ``sr_perceptual`` checkpoint. ``settings``: the resolved
    ``sr.perceptual`` block (loss weights and discriminator keys, ``train`` with its engine). Its LR images are of
    the kind the PSNR model was trained on (``index_csv`` for ``pyramid``)."""
    train_cfg = settings["train"]
    check_train_config(train_cfg, keys=tuple(k for k in TRAIN_KEYS if k != "lr_source"))
    acquire_gpus(gpus)
    payload = require_kind(load_checkpoint(psnr_model), "sr", psnr_model)
    scale = int(payload["model_kwargs"]["scale"])
    lr_source = trained_lr_source(payload)
    train_pairs, val_pairs, data_hash = load_pairs(data_dir, scale, train_cfg["val_images"], lr_source, index_csv)
    train_pairs, val_pairs = degrade_as_trained((train_pairs, val_pairs), payload, seed)  # the PSNR model's LR
    task = PerceptualSRTask(train_pairs, val_pairs, payload, train_cfg["lr_patch"], train_cfg["charbonnier_eps"],
                            settings)
    logger.info(f"perceptual x{scale} fine-tune of {psnr_model} (step {payload['step']}): {len(train_pairs)} train, "
                f"{len(val_pairs)} val images, LR from {lr_source}; weights "
                + ", ".join(f"{k.removesuffix('_weight')} {settings[k]}" for k in WEIGHTS))
    stage_config = {"scale": scale, "psnr_model_step": payload["step"], "psnr_model_best_val": payload["best_val"],
                    "net": payload["model_kwargs"], "lr_source": lr_source,
                    "perceptual": {k: settings[k] for k in PERCEPTUAL_KEYS},
                    "train": json.loads(json.dumps(train_cfg)), "seed": seed}
    return train(task, engine_config(train_cfg, seed), model_out=model_out,
                 state_dir=state_dir or state_dir_for(model_out), metrics_csv=metrics_csv, curve_png=curve_png,
                 stage_config=stage_config, data_hash=data_hash, **engine_kwargs)
