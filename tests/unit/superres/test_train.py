
import numpy as np
import pandas as pd
import pytest
import torch
from resume import assert_same_weights, killed_then_resumed

from rockzoom.data.store import load_split
from rockzoom.metrics.fidelity import evaluate
from rockzoom.superres.data import (
    make_pairs,
)
from rockzoom.superres.evaluate import eval_sr
from rockzoom.superres.gan import finetune_sr_gan
from rockzoom.superres.train import train_sr
from rockzoom.superres.upscale import ClassicalUpscaler
from rockzoom.util.checkpoint import load_checkpoint

NET = {"arch": "rlfn", "n_blocks": 1, "n_feats": 8}
GAN = {"pixel_weight": 1.0, "adversarial_weight": 0.01, "frequency_weight": 0.05, "d_lr": 1e-4, "d_feats": 8}


def _train_cfg(steps, save_every=2, lr_patch=8):
    return {"lr_patch": lr_patch, "charbonnier_eps": 1e-3, "val_images": 2, "lr_source": "bicubic",
            "engine": {"steps": steps, "batch_size": 4, "lr": 1e-3, "warmup_steps": 1, "ema_decay": 0.9,
                       "val_every": 2, "save_every": save_every, "log_every": 2, "device": "cpu"}}


def _train(data_dir, out, steps, scale=2, **kw):
    return train_sr(data_dir, model_out=out / "model.pt", metrics_csv=out / "metrics.csv", curve_png=out / "curve.png",
                    scale=scale, net=NET, train_cfg=_train_cfg(steps), seed=0, progress=False, **kw)


def test_train_sr_writes_outputs_and_resumes_after_a_kill(data_dir, tmp_path):
    straight = _train(data_dir, tmp_path / "straight", 4)
    assert straight.resumed_from == 0
    rows = pd.read_csv(tmp_path / "straight" / "metrics.csv")
    assert {"val_psnr", "val_psnr_bicubic", "loss"} <= set(rows.columns)
    _, b = killed_then_resumed(lambda out, **kw: _train(data_dir, out, 4, **kw), tmp_path / "killed", 2)
    a = load_checkpoint(tmp_path / "straight" / "model.pt")
    assert a["kind"] == "sr" and a["model_kwargs"] == {"scale": 2, **NET}
    assert_same_weights(a["state_dict"], b["state_dict"])


def test_scale_3_trains_and_evaluates(data_dir, tmp_path):
    _train(data_dir, tmp_path / "x3", 2, scale=3)
    table = eval_sr(data_dir, scale=3, models=[tmp_path / "x3" / "model.pt"], table_csv=tmp_path / "t.csv",
                    crops_png=tmp_path / "c.png", device="cpu", methods=("bicubic",))
    assert list(table["method"]) == ["bicubic", "x3"]
    assert table["n"].tolist() == [3, 3]
    assert (table["peak_mem_mb"] >= 0).all()  # measured in a fresh process per method


def test_gan_finetune_runs_and_eval_reports_every_method(data_dir, tmp_path):
    _train(data_dir, tmp_path / "psnr", 2)
    gan_out = tmp_path / "gan"
    result = finetune_sr_gan(data_dir, tmp_path / "psnr" / "model.pt", model_out=gan_out / "model.pt",
                             metrics_csv=gan_out / "metrics.csv", curve_png=gan_out / "curve.png",
                             train_cfg=_train_cfg(2), gan=GAN, seed=0, progress=False)
    assert result.steps == 2
    payload = load_checkpoint(gan_out / "model.pt")
    assert payload["kind"] == "sr_gan"
    psnr_state = load_checkpoint(tmp_path / "psnr" / "model.pt")["state_dict"]
    assert any(not torch.equal(psnr_state[k], payload["state_dict"][k]) for k in psnr_state)
    rows = pd.read_csv(gan_out / "metrics.csv")
    assert {"loss_adv", "loss_d", "loss_freq", "val_hf_ratio", "val_spectrum_distance"} <= set(rows.columns)
    state = load_checkpoint(tmp_path / "gan.state" / "state.pt")
    assert "discriminator" in state["extra"] and "d_optimizer" in state["extra"]

    table = eval_sr(data_dir, scale=2, models=[tmp_path / "psnr" / "model.pt", gan_out / "model.pt"],
                    table_csv=tmp_path / "table.csv", crops_png=tmp_path / "crops.png",
                    device="cpu", measure_memory=False)
    assert list(table["method"]) == ["bicubic", "lanczos", "psnr", "gan+gan"]
    assert (tmp_path / "crops.png").stat().st_size > 0
    assert np.isfinite(table["hf_energy_ratio"]).all() and (table["hf_energy_ratio"] > 0).all()
    assert (table["ms_per_image"] > 0).all() and np.isfinite(table["spectrum_distance_db"]).all()
    # the evaluator's bicubic row is bicubic of the same LR, scored with border = scale and the masks
    test_pairs = make_pairs(load_split(data_dir, "test"), 2)
    up = ClassicalUpscaler("bicubic", 2)
    preds = np.stack([up.upscale(im.astype(np.float32) / 255) for im in test_pairs.lr])
    expected = evaluate(preds, test_pairs.hr, test_pairs.hr_mask, border=2)["psnr_pooled"]
    assert table.loc[0, "psnr_pooled"] == pytest.approx(expected)


def test_auto_blur_is_resolved_and_recorded_in_the_checkpoint(data_dir, tmp_path):
    from rockzoom.superres.train import trained_lr_blur

    out = tmp_path / "native"
    cfg = {**_train_cfg(2), "lr_blur": "auto", "lr_noise": 1.0, "lr_jpeg": "auto"}
    train_sr(data_dir, model_out=out / "model.pt", metrics_csv=out / "metrics.csv", curve_png=out / "curve.png",
             scale=2, net=NET, train_cfg=cfg, seed=0, progress=False)
    payload = load_checkpoint(out / "model.pt")
    sigma = trained_lr_blur(payload)  # a number, what the exemplar and the fine-tunes blur their LR with
    assert isinstance(payload["config"]["train"]["lr_blur"], float) and 0.0 <= sigma <= 2.0
    assert payload["config"]["train"]["lr_noise"] == 1.0
    assert isinstance(payload["config"]["train"]["lr_jpeg"], int)  # auto resolved to the quality trained with
