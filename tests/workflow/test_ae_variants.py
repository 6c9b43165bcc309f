"""Progressive growing and the multi-scale autoencoder: fade-in, weight carry-over, resume, workflow routing."""
import json
import logging
import os
import time

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import yaml
from resume import sigkill_snakemake_when
from workflow_helpers import REPO, SNAKEMAKE, plan, run

from rockzoom.autoencoder.inference import decode_array, load_autoencoder
from rockzoom.autoencoder.multiscale import eval_levels, train_multiscale
from rockzoom.autoencoder.progressive import (
    fade_alpha,
    grow,
    resize_pos_embed,
    train_progressive_stage,
)
from rockzoom.autoencoder.task import model_kwargs_for
from rockzoom.data.store import save_split
from rockzoom.models.multiscale_ae import (
    MultiScaleAutoencoder,
    area_pyramid,
    mask_pyramid,
)
from rockzoom.models.vit_ae import ViTAutoencoder

CONFIGS = [REPO / "config" / "config.yaml", REPO / "config" / "test.yaml"]
VIT = {"token_grid": 4, "embed_dim": 16, "depth": 1, "heads": 2, "mlp_ratio": 2.0, "latent_grid": 4,
       "latent_channels": 2, "dec_dim": 16, "dec_depth": 1, "dec_heads": 2, "coarse_size": 4, "head_channels": 4}
MS = {"channels": [4, 8, 8], "dim": 16, "depth": 1, "dec_depth": 1, "heads": 2, "mlp_ratio": 2.0, "latent_grid": 4,
      "latent_channels": 2, "coarse_size": 4, "skips": True}
ENGINE = {"steps": 4, "batch_size": 4, "lr": 0.003, "warmup_steps": 1, "val_every": 2, "save_every": 2,
          "log_every": 2, "ema_decay": 0.9, "device": "cpu"}


def trained_vit(size: int, token_grid: int = 4, seed: int = 0) -> ViTAutoencoder:
    torch.manual_seed(seed)
    model = ViTAutoencoder(**model_kwargs_for({**VIT, "token_grid": token_grid}, size))
    with torch.no_grad():  # stand-in for training: move every weight away from its initialisation
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return model


def make_dataset(path, size, n=(8, 4, 4), seed=0):
    rng = np.random.default_rng(seed)
    for split, count in zip(("train", "val", "test"), n):
        base = rng.random((count, 4, 4, 3))
        images = (np.stack([np.kron(b, np.ones((size // 4, size // 4, 1))) for b in base]) * 255).astype(np.uint8)
        masks = np.ones(images.shape[:3], bool)
        masks[:, -2:, -2:] = False
        save_split(path, split, images, masks)
    (path / "summary.json").write_text(json.dumps({"manifest_hash": f"h{size}"}))
    return path


# --- progressive growing -------------------------------------------------------------------------------------------

def test_fade_alpha_is_linear_in_images_then_one():
    assert fade_alpha(0, 400) == 0.0
    assert fade_alpha(100, 400) == 0.25
    assert fade_alpha(200, 400) == 0.5
    assert fade_alpha(400, 400) == 1.0 and fade_alpha(10_000, 400) == 1.0
    assert fade_alpha(0, 0) == 1.0  # no fade: the new layers take over at once


def test_grow_carries_the_trained_weights_at_the_same_grid():
    old = trained_vit(32)
    new = grow(old, model_kwargs_for(VIT, 64))  # token_grid 4 at both sizes: patch 8 -> 16, same 4x4 grid
    src, dst = old.state_dict(), new.state_dict()
    assert list(dst) == list(ViTAutoencoder(**model_kwargs_for(VIT, 64)).state_dict())  # a plain ViT state dict
    assert torch.equal(dst["enc_pos"], src["enc_pos"])
    size_independent = [k for k in src if k not in ("patch_embed.weight", "to_pixels.weight", "to_pixels.bias")]
    for k in size_independent:
        assert torch.equal(dst[k], src[k]), k
    # the new patch embedding of an image is the old one of its area-downsampled copy
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    assert torch.allclose(new.patch_embed(x), old.patch_embed(F.avg_pool2d(x, 2)), atol=1e-5)


def test_position_embeddings_interpolate_the_trained_weights_to_a_new_grid():
    old = trained_vit(32, token_grid=4)
    new = grow(old, model_kwargs_for({**VIT, "token_grid": 8}, 64))  # patch 8 stays, grid 4 -> 8
    assert new.grid == 8 and old.grid == 4
    expected = F.interpolate(old.enc_pos.detach(), size=(8, 8), mode="bicubic", align_corners=False)
    assert torch.allclose(new.enc_pos, expected)
    assert torch.allclose(resize_pos_embed(old.enc_pos.detach(), 8), expected)
    # trained, not re-initialised: averaging back to the old grid stays close to the trained embeddings
    back = F.avg_pool2d(new.enc_pos.detach(), 2)
    assert (back - old.enc_pos).abs().mean() < 0.5 * old.enc_pos.abs().mean()
    assert torch.equal(new.dec_pos, old.dec_pos)


def test_fade_in_starts_at_the_old_model_and_ends_at_the_new_layers():
    old = trained_vit(32)
    new = grow(old, model_kwargs_for(VIT, 64))
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        new.alpha = 0.0  # the input side is exactly the old model on the downsampled tile
        assert torch.allclose(new.encode(x), old.encode(F.avg_pool2d(x, 2)), atol=1e-5)
        faded = new(x)
        new.alpha = 1.0
        full = new(x)
        plain = ViTAutoencoder(**model_kwargs_for(VIT, 64))
        plain.load_state_dict(new.state_dict())
        assert torch.equal(full, plain(x))  # at alpha 1 the grown model is the exported ViT
        new.alpha = 0.5
        half = new(x)
    assert not torch.allclose(faded, full)
    assert half.shape == full.shape == (2, 3, 64, 64)


def test_stage_data_is_the_final_tiles_area_downsampled(tmp_path):
    from rockzoom.autoencoder.progressive import downsample_split
    from rockzoom.data.store import load_split

    full = load_split(make_dataset(tmp_path / "s64", 64), "train")
    small = downsample_split(full, 16)
    assert small.images.shape == (8, 16, 16, 3) and small.masks.shape == (8, 16, 16)
    expected = np.asarray(full.images, np.float64).reshape(8, 16, 4, 16, 4, 3).mean((2, 4))
    assert np.abs(small.images - expected).max() <= 0.5 + 1e-6
    assert not small.masks[:, -1, -1].any() and small.masks[:, :-1, :-1].all()  # 2x2 no-data corner -> 1 px
    assert downsample_split(full, 64) is full


class Killed(Exception):
    pass


def test_progressive_stage_resumes_after_a_kill(tmp_path, caplog):
    d32, d64 = make_dataset(tmp_path / "s32", 32), make_dataset(tmp_path / "s64", 64)
    stage = {"model": VIT, "loss": {"l1": 1.0}, "val_images": 4, "pca_init": False, "engine": ENGINE}
    first = tmp_path / "chain/s32/model.pt"
    train_progressive_stage(d32, first, stage, 0, progress=False)
    second_cfg = {**stage, "engine": {**ENGINE, "steps": 6}, "fade_images": 12}
    full = tmp_path / "full/s64/model.pt"
    train_progressive_stage(d64, full, second_cfg, 0, init_path=first, progress=False)

    def kill_at_3(step):
        if step == 3:
            raise Killed()

    killed = tmp_path / "chain/s64/model.pt"
    with pytest.raises(Killed):
        train_progressive_stage(d64, killed, second_cfg, 0, init_path=first, progress=False,
                                on_step_end=kill_at_3)
    assert not killed.exists() and (tmp_path / "chain/s64.state/state.pt").exists()
    caplog.set_level(logging.INFO, logger="rockzoom")
    result = train_progressive_stage(d64, killed, second_cfg, 0, init_path=first, progress=False)
    assert result.resumed_from == 2 and any("resuming from step 2" in line for line in caplog.messages)
    a, b = torch.load(full, weights_only=True), torch.load(killed, weights_only=True)
    assert a["kind"] == b["kind"] == "ae" and a["step"] == b["step"]
    for k in a["state_dict"]:
        assert torch.allclose(a["state_dict"][k], b["state_dict"][k], atol=1e-6), k
    model, _ = load_autoencoder(killed, "cpu")  # the stage checkpoint is an ordinary ViT autoencoder
    assert isinstance(model, ViTAutoencoder) and model.img_size == 64


# --- multi-scale autoencoder ---------------------------------------------------------------------------------------

def test_multiscale_levels_latent_and_targets_have_the_right_shapes():
    model = MultiScaleAutoencoder(img_size=64, **MS)
    x = torch.rand(3, 3, 64, 64)
    latent, feats = model.encode_features(x)
    assert latent.shape == (3, 32) and model.latent_dim == 32
    assert [f.shape[-1] for f in feats] == [16, 32, 64]
    levels = model(x, skips=True, all_levels=True)
    assert [tuple(t.shape) for t in levels] == [(3, 3, 16, 16), (3, 3, 32, 32), (3, 3, 64, 64)]
    assert model.level_sizes == [16, 32, 64]
    assert [t.shape[-1] for t in area_pyramid(x, 3)] == [16, 32, 64]
    masks = torch.ones(3, 64, 64, dtype=torch.bool)
    masks[:, 0, 0] = False
    coarse = mask_pyramid(masks, 3)
    assert not coarse[0][:, 0, 0].any() and coarse[0][:, 1:, 1:].all()


def test_multiscale_decode_needs_no_skips_and_skips_change_the_output():
    torch.manual_seed(0)
    model = MultiScaleAutoencoder(img_size=64, **MS).eval()
    with torch.no_grad():
        for conv in [*model.skip, *model.to_rgb]:  # open the (zero-initialised) skips and RGB residuals
            conv.weight.normal_(0, 0.5)
        x = torch.rand(2, 3, 64, 64)
        z = torch.randn(5, model.latent_dim)
        generated = model.decode(z)  # a sampled latent, no encoder features anywhere
        assert generated.shape == (5, 3, 64, 64) and torch.isfinite(generated).all()
        assert torch.equal(model(x), model.decode(model.encode(x)))
        assert not torch.allclose(model(x, skips=True), model(x))
        keep = torch.tensor([0.0, 1.0])
        dropped = model(x, skips=True, skip_keep=keep)
        assert torch.allclose(dropped[0], model(x)[0]) and torch.allclose(dropped[1], model(x, skips=True)[1])


def test_multiscale_trains_loads_samples_and_saves_levels(tmp_path):
    data = make_dataset(tmp_path / "s64", 64)
    cfg = {"model": MS, "loss": {"l1": 1.0}, "level_weights": [0.25, 0.5, 1.0], "skip_drop": 0.5, "val_images": 4,
           "engine": ENGINE}
    out = tmp_path / "ae/multiscale-s64/model.pt"
    result = train_multiscale(data, out, cfg, 0, progress=False)
    assert result.best_step is not None
    metrics = (out.parent / "metrics.csv").read_text()
    assert "val_psnr_level0" in metrics and "val_psnr_skips" in metrics and "loss_level2" in metrics
    model, ckpt = load_autoencoder(out, "cpu")
    assert isinstance(model, MultiScaleAutoencoder) and ckpt["model_kwargs"]["arch"] == "multiscale"
    samples = decode_array(model, np.random.default_rng(0).normal(size=(3, model.latent_dim)).astype(np.float32))
    assert samples.shape == (3, 64, 64, 3) and samples.dtype == np.uint8
    report = eval_levels(out, data, tmp_path / "levels.json", tmp_path / "levels.npz", tmp_path / "levels.png",
                         n_saved=2)
    assert set(report["metrics"]) == {f"{m}/{s}" for m in ("latent_only", "with_skips") for s in (16, 32, 64)}
    saved = np.load(tmp_path / "levels.npz")
    assert saved["latent_only_16"].shape == (2, 16, 16, 3) and saved["with_skips_64"].shape == (2, 64, 64, 3)
    assert (tmp_path / "levels.png").exists()


def test_vit_checkpoints_without_an_arch_still_load(tmp_path):
    from rockzoom.autoencoder.inference import build_autoencoder

    assert isinstance(build_autoencoder(model_kwargs_for(VIT, 32)), ViTAutoencoder)
    with pytest.raises(ValueError, match="unknown autoencoder arch"):
        build_autoencoder({"arch": "nosuch"})


# --- workflow ------------------------------------------------------------------------------------------------------

def test_dry_run_routes_variants_to_their_rules(tmp_path):
    counts = plan(["results/ae/progressive-s256/model.pt", "results/ae/multiscale-s256/model.pt",
                   "results/ae/vit-s256/model.pt"], tmp_path, CONFIGS)
    assert counts["train_ae_progressive"] == 3 and counts["export_ae_progressive"] == 1
    assert counts["train_ae_multiscale"] == 1 and counts["train_ae"] == 1
    counts = plan(["ae_variants"], tmp_path, CONFIGS)
    assert counts["compare_ae_variants"] == 1 and counts["eval_ae_levels"] == 1 and counts["eval_ae"] == 2


def mark_done(target: str, workdir, configs) -> None:
    """Create the outputs of every job ``target`` needs, oldest first, as if they had run."""
    proc = run(["-n", target], workdir, configs)
    order = ["demo_tiles", "index_tiles", "split_blocks", "build_dataset", "train_ae_progressive"]
    outputs: dict[str, list[str]] = {}
    rule = None
    for line in proc.stdout.splitlines() + proc.stderr.splitlines():
        if line.startswith("rule "):
            rule = line[5:].rstrip(":")
        elif line.strip().startswith("output:") and rule:
            outputs.setdefault(rule, []).extend(p.strip() for p in line.split(":", 1)[1].split(","))
    assert set(outputs) <= set(order), outputs
    now = time.time() - 1000
    for i, name in enumerate(r for r in order if r in outputs):
        for out in outputs[name]:
            path = workdir / out
            if name == "demo_tiles":
                path.mkdir(parents=True, exist_ok=True)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.touch()
            os.utime(path, (now + 10 * i, now + 10 * i))
    run(["--touch", target], workdir, configs)  # records the jobs' provenance, as a real run would


@pytest.mark.slow
def test_finished_earlier_stage_is_not_retrained(tmp_path):
    first = "results/ae_progressive/progressive/s64/model.pt"
    mark_done(first, tmp_path, CONFIGS)
    assert plan([first], tmp_path, CONFIGS) == {}
    counts = plan(["results/ae/progressive-s256/model.pt"], tmp_path, CONFIGS)
    assert counts["train_ae_progressive"] == 2  # s128 and s256 only: the finished s64 stage is not retrained
    assert "build_dataset" not in counts  # every stage trains on the s256 tiles, downsampled
    assert counts["export_ae_progressive"] == 1


def test_bad_chain_is_a_config_error_before_any_job(tmp_path):
    cfg = {"ae_variants": {"progressive": {"progressive": {"sizes": [128, 64], "steps": [1, 1]}}}}
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(cfg))
    proc = run(["-n", "ae_variants"], tmp_path, [*CONFIGS, bad], check=False)
    assert proc.returncode != 0
    assert "ae_variants.progressive.progressive.sizes" in proc.stdout + proc.stderr


@pytest.mark.slow
def test_killing_the_middle_stage_then_rerun_resumes_it(tmp_path):
    cfg = {"ae_variants": {"progressive": {"progressive": {"steps": [2, 60, 2]}}}}
    base = yaml.safe_load(CONFIGS[1].read_text())["ae"]["archs"]["vit"]["engine"]
    cfg["ae"] = {"archs": {"vit": {"engine": {**base, "save_every": 5, "log_every": 5, "val_every": 100}}}}
    overlay = tmp_path / "long.yaml"
    overlay.write_text(yaml.safe_dump(cfg))
    configs = [*CONFIGS, overlay]
    middle = "results/ae_progressive/progressive/s128/model.pt"
    run(["results/ae_progressive/progressive/s64/model.pt"], tmp_path, configs)
    log = tmp_path / "logs/train_ae_progressive/progressive-s128.log"
    cmd = SNAKEMAKE + ["--snakefile", str(REPO / "Snakefile"), "--directory", str(tmp_path), "--configfile",
                       *map(str, configs), "--cores", "2", middle]
    sigkill_snakemake_when(cmd, tmp_path, log, "step 10/60", timeout=300)
    first_mtime = (tmp_path / "results/ae_progressive/progressive/s64/model.pt").stat().st_mtime
    counts = plan(["results/ae/progressive-s256/model.pt"], tmp_path, configs)
    assert "train_ae_progressive" in counts and counts["train_ae_progressive"] == 2  # not the finished s64 stage
    run(["--unlock", middle], tmp_path, configs)  # the killed run left its lock behind
    run(["--rerun-incomplete", middle], tmp_path, configs, timeout=1200)
    assert "resuming from step" in log.read_text()
    assert (tmp_path / "results/ae_progressive/progressive/s64/model.pt").stat().st_mtime == first_mtime


def test_cli_runs_a_chain_and_skips_finished_stages(tmp_path, caplog):
    from rockzoom.cli import main

    data = make_dataset(tmp_path / "s64", 64)
    config = {"seed": 0, "ae": {"archs": {"vit": {"model": VIT, "loss": {"l1": 1.0}, "val_images": 4,
                                                  "pca_init": False, "engine": {**ENGINE, "steps": 2}}}},
              "ae_variants": {"progressive": {"progressive": {"base": "vit", "sizes": [32, 64], "steps": [2, 2],
                                                              "fade_images": 4}}}}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    args = ["train-ae-progressive", "--data-dir", str(data), "--stages-dir", str(tmp_path / "stages"),
            "--model-out", str(tmp_path / "ae/progressive-s64/model.pt"), "--config", str(path)]
    assert main(args) == 0
    model, ckpt = load_autoencoder(tmp_path / "ae/progressive-s64/model.pt", "cpu")
    assert isinstance(model, ViTAutoencoder) and model.img_size == 64
    assert ckpt["config"]["exported_from"].endswith("stages/s64/model.pt")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="rockzoom"):
        assert main(args) == 0
    assert caplog.text.count("not retrained") == 2
