"""The generation stage: latents from the fitted prior -> AE decode at its native size -> upscale -> PNG files.

Writes the samples, a contact sheet of thumbnails (at most `sheet_width` pixels wide whatever the sample size), and a
provenance JSON: sampler, seed, sha256 of every checkpoint used, timings, and the sample checks (flat fraction,
memorisation distance in latent space vs held-out test latents, spectrum distance to real tiles of the output size).
"""
from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np
from PIL import Image

from rockzoom.autoencoder.inference import decode_array, load_autoencoder
from rockzoom.autoencoder.latents import load_latents
from rockzoom.autoencoder.prior import load_prior
from rockzoom.autoencoder.sampling import sample_checks, sample_latents
from rockzoom.data.store import load_split
from rockzoom.generation.realism import option_realism
from rockzoom.generation.sheets import contact_sheet
from rockzoom.metrics.spectrum import spectrum_distance
from rockzoom.superres.upscale import Upscaler, build_upscaler, upscale_tiled
from rockzoom.texture.patch_synthesis import LAYOUT_VIEW, PatchBanks
from rockzoom.texture.stage import add_detail, layout_summary
from rockzoom.util.hashing import file_sha256
from rockzoom.util.memory import release_mapped_pages
from rockzoom.util.provenance import machine_description

logger = logging.getLogger(__name__)

UPSCALE_CHOICES = ("none", "bicubic", "lanczos", "sr")


def make_upscaler(upscale: str, scale: int, sr_model: str | Path | None, device: str,
                  self_ensemble: bool = False, back_project: bool = False) -> Upscaler | None:
    if upscale not in UPSCALE_CHOICES:
        raise ValueError(f"upscale must be one of {UPSCALE_CHOICES}, got {upscale!r}")
    if upscale == "none":
        return None
    if upscale == "sr":
        if sr_model is None:
            raise ValueError("upscale 'sr' needs a trained SR checkpoint")
        return build_upscaler(checkpoint=sr_model, scale=scale, device=device, self_ensemble=self_ensemble,
                              back_project=back_project)
    return build_upscaler(method=upscale, scale=scale, back_project=back_project)


def generate(ae_model: str | Path | None, prior_path: str | Path | None, latents_dir: str | Path | None,
             out_dir: str | Path, *,
             sampler: str, n: int, seed: int, upscale: str = "none", scale: int = 1,
             sr_model: str | Path | None = None, real_dir: str | Path | None = None,
             ground_dir: str | Path | None = None, temperature: float = 1.0,
             perturb_sigma: float = 0.5, flat_std: float = 0.02, tile: int = 256, overlap: int = 16,
             detail: dict | None = None, realism: dict | None = None, device: str = "auto",
             self_ensemble: bool = False, back_project: bool = False, scene: dict | None = None) -> dict:
    """The `generate` stage. `real_dir` (results/data/s{output size}) gives real tiles for the spectrum check and the
    KID and copy measures; `ground_dir` (results/data/s256) the real tiles of the realism judges and of the blind
    side-by-side sheet. `detail` ({banks: path, synthesis: {...}}) runs the patch
    synthesis on each decoded sample before upscaling; `realism` holds the realism_report settings;
    `self_ensemble` runs a learned upscaler over the 8 flips/rotations of each input and averages (8x its time);
    `back_project` corrects each upscale so that its x scale box average is the sample (exact LR consistency);
    `scene` ({model: path, size: px, synthesis: {...}}) draws the samples from the scene generator (rockzoom.scene)
    instead of the AE (ae_model, prior_path and latents_dir are then unused)."""
    out_dir = Path(out_dir)
    samples_dir = out_dir / "samples"
    samples_dir.mkdir(parents=True, exist_ok=True)
    upscaler = make_upscaler(upscale, scale, sr_model, device, self_ensemble, back_project)
    t0 = time.perf_counter()
    if scene is None:
        model, _ = load_autoencoder(ae_model, device)
        prior = load_prior(prior_path)
        t0 = time.perf_counter()
        latents = sample_latents(prior, sampler, n, seed, temperature, perturb_sigma)
        native = decode_array(model, latents)
    else:
        from rockzoom.scene.stage import scene_samples, summarise

        sampler = "scene"
        native, records = scene_samples(scene["model"], n, scene["size"], seed=seed, synthesis=scene["synthesis"],
                                        max_piece=scene["max_piece"], attempts=scene["attempts"])
    t_decode = time.perf_counter() - t0
    t_detail, coarse = 0.0, native
    if detail is not None:
        t1 = time.perf_counter()
        native = add_detail(native, PatchBanks.load(detail["banks"]), seed=seed, synthesis=detail["synthesis"])
        t_detail = time.perf_counter() - t1
    outputs, t_up = [], 0.0
    for i, image in enumerate(native):
        t1 = time.perf_counter()
        if upscaler is not None:
            out = np.empty((image.shape[0] * upscaler.scale, image.shape[1] * upscaler.scale, 3), np.uint8)
            upscale_tiled(upscaler, image, tile=tile, overlap=overlap, out=out)
        else:
            out = image
        t_up += time.perf_counter() - t1
        Image.fromarray(out).save(samples_dir / f"sample_{i:03d}.png")
        outputs.append(out)
    contact_sheet(outputs, out_dir / "contact_sheet.png")

    if scene is None:
        checks = sample_checks(native, latents, prior["train_latents"].numpy(), load_latents(latents_dir, "test"),
                               flat_std)
    else:
        checks = {"n": int(len(native)), "value_min": int(native.min()), "value_max": int(native.max()),
                  "scene": summarise(records)}
    if real_dir is not None:
        real = load_split(real_dir, "test")
        k = min(len(real), 16)
        checks["spectrum_distance_db_to_real"] = spectrum_distance(np.stack(outputs), np.asarray(real.images[:k]))
        release_mapped_pages(real.images, real.masks)
        checks["real_reference"] = f"{real_dir} test split, {k} images"
    if detail is not None:
        checks["layout"] = layout_summary(native, coarse, detail["synthesis"].get("layout_view", LAYOUT_VIEW))
    size = outputs[0].shape[0]
    provenance = {
        "sampler": sampler, "seed": seed, "n": n, "temperature": temperature, "perturb_sigma": perturb_sigma,
        "native_size": int(native.shape[1]), "output_size": int(size), "upscale": upscale,
        "scale": upscaler.scale if upscaler else 1, "tile": tile, "overlap": overlap,
        "upscaler": upscaler.name if upscaler else None, "back_project": back_project,
        "checkpoints": ({"autoencoder": {"path": str(ae_model), "sha256": file_sha256(ae_model)},
                         "prior": {"path": str(prior_path), "sha256": file_sha256(prior_path)}} if scene is None else
                        {"scene": {"path": str(scene["model"]), "sha256": file_sha256(scene["model"]),
                                   "max_piece": scene["max_piece"], "attempts": scene["attempts"],
                                   **scene["synthesis"]}}),
        "detail": None if detail is None else {"banks": str(detail["banks"]),
                                               "sha256": file_sha256(detail["banks"]), **detail["synthesis"]},
        "seconds": {"sample_and_decode": t_decode, "detail": t_detail, "upscale": t_up,
                    "per_image": (t_decode + t_detail + t_up) / max(1, n)},
        "machine": machine_description(),
        "checks": checks,
    }
    if ground_dir is not None and realism is not None:
        provenance["realism"] = option_realism(np.stack(outputs), ground_dir, out_dir, scale=provenance["scale"],
                                               seed=seed, settings=realism, real_dir=real_dir)
    elif realism is not None:
        provenance["realism"] = {"measured": False, "why": "no real 256 px tiles (256 is not among this tree's "
                                                           "dataset.sizes): the judges compare 256 px tiles"}
    if sr_model is not None and upscale == "sr":
        provenance["checkpoints"]["sr"] = {"path": str(sr_model), "sha256": file_sha256(sr_model)}
    (out_dir / "provenance.json").write_text(json.dumps(provenance, indent=2))
    logger.info(f"generated {n} {size}px samples ({sampler}, seed {seed}, upscale {upscale}) in "
                f"{t_decode + t_up:.1f} s; values {checks['value_min']}..{checks['value_max']}")
    if scene is None:
        logger.info(f"flat {checks['flat_fraction']:.0%}, nn-distance ratio to test "
                    f"{checks['nn_ratio_samples_to_test']:.2f} (to train leave-one-out "
                    f"{checks['nn_ratio_samples_to_train_loo']:.2f})")
    return provenance
