import numpy as np
import pandas as pd
import pytest
import torch
from resume import assert_same_weights, killed_then_resumed

from rockzoom.superres.evaluate import eval_sr
from rockzoom.superres.perceptual import PERCEPTUAL_KEYS, finetune_sr_perceptual
from rockzoom.superres.train import train_sr
from rockzoom.superres.upscale import build_upscaler
from rockzoom.util.checkpoint import load_checkpoint

NET = {"arch": "rlfn", "n_blocks": 1, "n_feats": 8}
SETTINGS = {"pixel_weight": 1.0, "ldl_weight": 1.0, "lr_weight": 1.0, "adversarial_weight": 0.05, "swd_weight": 1.0,
            "gram_weight": 0.1, "fft_weight": 0.1, "grid_weight": 1.0, "d_lr": 1e-4, "d_feats": 8, "d_down": 2, "d_view": "full",
            "ldl_ema_decay": 0.9,
            "swd_patch": 5, "swd_projections": 8}


def _engine(steps):
    return {"steps": steps, "batch_size": 4, "lr": 1e-3, "warmup_steps": 0, "ema_decay": 0.0, "val_every": 2,
            "save_every": 2, "log_every": 2, "device": "cpu"}


def _settings(steps, **weights):
    return {**SETTINGS, **weights,
            "train": {"lr_patch": 8, "charbonnier_eps": 1e-3, "val_images": 2, "engine": _engine(steps)}}


@pytest.fixture(scope="module")
def psnr_model(data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("psnr")
    train_sr(data_dir, model_out=out / "model.pt", metrics_csv=out / "metrics.csv", curve_png=out / "curve.png",
             scale=2, net=NET, seed=0, progress=False,
             train_cfg={"lr_patch": 8, "charbonnier_eps": 1e-3, "val_images": 2, "lr_source": "bicubic",
                        "engine": _engine(2)})
    return out / "model.pt"


def _finetune(data_dir, psnr_model, out, steps=4, settings=None, **kw):
    return finetune_sr_perceptual(data_dir, psnr_model, model_out=out / "model.pt", metrics_csv=out / "metrics.csv",
                                  curve_png=out / "curve.png", settings=settings or _settings(steps), seed=0,
                                  progress=False, **kw)


def test_perceptual_finetune_trains_every_term_and_resumes_after_a_kill(data_dir, psnr_model, tmp_path):
    straight = _finetune(data_dir, psnr_model, tmp_path / "straight")
    assert straight.steps == 4
    payload = load_checkpoint(tmp_path / "straight" / "model.pt")
    assert payload["kind"] == "sr_perceptual" and payload["model_kwargs"] == {"scale": 2, **NET}
    assert set(payload["config"]["perceptual"]) == set(PERCEPTUAL_KEYS)
    rows = pd.read_csv(tmp_path / "straight" / "metrics.csv")
    losses = {f"loss_{t}" for t in ("pixel", "ldl", "lr", "adversarial", "swd", "gram", "fft", "grid")}
    assert losses | {"loss_d", "val_lr_psnr", "val_hf_ratio", "val_texture_score"} <= set(rows.columns)
    assert rows.loc[rows["step"] == 0, "val_psnr"].notna().all()  # the PSNR model is validated first
    state = load_checkpoint(tmp_path / "straight.state" / "state.pt")
    assert {"discriminator", "d_optimizer", "ldl_ema"} <= set(state["extra"])
    _, resumed = killed_then_resumed(lambda out, **kw: _finetune(data_dir, psnr_model, out, **kw),
                                     tmp_path / "killed", 2)
    assert_same_weights(payload["state_dict"], resumed["state_dict"])
    psnr_state = load_checkpoint(psnr_model)["state_dict"]
    final = load_checkpoint(tmp_path / "straight.state" / "state.pt")["model"]
    assert any(not torch.equal(psnr_state[k], final[k]) for k in psnr_state)


def test_a_zero_weight_turns_its_term_off(data_dir, psnr_model, tmp_path):
    out = tmp_path / "few"
    settings = _settings(2, ldl_weight=0.0, adversarial_weight=0.0, swd_weight=0.0, gram_weight=0.0, grid_weight=0.0)
    finetune_sr_perceptual(data_dir, psnr_model, model_out=out / "model.pt", metrics_csv=out / "metrics.csv",
                           curve_png=out / "curve.png", settings=settings, seed=0, progress=False)
    columns = set(pd.read_csv(out / "metrics.csv").columns)
    assert {"loss_pixel", "loss_lr", "loss_fft"} <= columns
    assert not columns & {"loss_ldl", "loss_adversarial", "loss_d", "loss_swd", "loss_gram", "loss_grid"}


def test_bad_settings_and_starts_are_refused_and_the_checkpoint_upscales(data_dir, psnr_model, tmp_path):
    bad = _settings(2)
    del bad["swd_weight"]
    with pytest.raises(KeyError, match="swd_weight"):
        finetune_sr_perceptual(data_dir, psnr_model, model_out=tmp_path / "m.pt", metrics_csv=tmp_path / "m.csv",
                               curve_png=tmp_path / "c.png", settings=bad, seed=0, progress=False)
    out = tmp_path / "p"
    _finetune(data_dir, psnr_model, out, steps=1)
    with pytest.raises(ValueError, match="sr_perceptual"):
        _finetune(data_dir, out / "model.pt", tmp_path / "again", steps=1)

    up = build_upscaler(checkpoint=out / "model.pt", device="cpu", back_project=True)
    assert up.name == "p+perceptual+bp" and up.scale == 2
    image = np.random.default_rng(0).random((10, 12, 3)).astype(np.float32)
    assert np.abs(up.upscale(image).reshape(10, 2, 12, 2, 3).mean((1, 3)) - image).max() < 1e-5
    table = eval_sr(data_dir, scale=2, models=[out / "model.pt"], table_csv=tmp_path / "t.csv",
                    crops_png=tmp_path / "c.png", device="cpu", measure_memory=False, methods=("bicubic",))
    assert list(table["method"]) == ["bicubic", "p+perceptual"]


@pytest.mark.parametrize("view, channels", [("highpass", 3), ("both", 6)])
def test_the_discriminator_sees_its_view(data_dir, psnr_model, tmp_path, view, channels):
    settings = _settings(2, d_view=view, ldl_weight=0.0, swd_weight=0.0, gram_weight=0.0)
    _finetune(data_dir, psnr_model, tmp_path / view, settings=settings)
    d = load_checkpoint(tmp_path / f"{view}.state" / "state.pt")["extra"]["discriminator"]
    first = next(v for k, v in d.items() if k.endswith("weight") or k.endswith("original"))
    assert first.shape[1] == channels
    assert "loss_adversarial" in pd.read_csv(tmp_path / view / "metrics.csv").columns


def test_the_high_pass_view_is_blind_to_flat_colour_and_sees_edges():
    from rockzoom.superres.perceptual import PerceptualSRTask

    task = PerceptualSRTask.__new__(PerceptualSRTask)
    task.s = {"d_view": "highpass"}
    task.discriminator = lambda x: x  # what the discriminator is fed
    flat = torch.full((1, 3, 32, 32), 0.3)
    assert torch.allclose(task._seen_by_discriminator(flat), torch.full_like(flat, 0.5), atol=1e-6)
    edge = flat.clone()
    edge[..., 16:] = 0.7
    seen = task._seen_by_discriminator(edge)
    assert seen[..., 15].min() < 0.3 and seen[..., 16].max() > 0.7  # dark side darker, bright side brighter
    task.s = {"d_view": "both"}
    assert task._seen_by_discriminator(edge).shape == (1, 6, 32, 32)


def test_an_unknown_discriminator_view_is_refused(data_dir, psnr_model, tmp_path):
    with pytest.raises(ValueError, match="d_view"):
        _finetune(data_dir, psnr_model, tmp_path / "bad", settings=_settings(1, d_view="pixels"))
