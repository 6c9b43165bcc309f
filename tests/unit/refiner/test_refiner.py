import json

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from resume import assert_same_weights, killed_then_resumed
from texture_data import textures, write_texture_dataset
from torch import nn

from rockzoom.cli import main as cli_main
from rockzoom.models.registry import REFINER_NETS, count_parameters
from rockzoom.refiner.inference import RefinedUpscaler, Refiner
from rockzoom.refiner.patching import _ramp, predict_patched
from rockzoom.refiner.schedule import alpha_bar, q_sample, target_of, x0_from_prediction
from rockzoom.refiner.train import condition_pairs, train_refiner
from rockzoom.superres.degradation import blur_lr
from rockzoom.superres.upscale import ClassicalUpscaler
from rockzoom.util.checkpoint import load_checkpoint, model_checkpoint, save_checkpoint

NET = {"base_channels": 8, "channel_mults": [1, 2], "blocks_per_level": 1, "attention_heads": 2,
       "pixel_unshuffle": 2}


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny nets: one torch thread is faster than two fighting over a shared machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return write_texture_dataset(tmp_path_factory.mktemp("refiner_data"), {"train": 4, "val": 2, "test": 2}, size=32, nodata_rows=6)


def _nonzero_unet(seed=0, **kw):
    """A UNet whose zero-initialised output layers are randomised, so predictions are not trivially zero."""
    torch.manual_seed(seed)
    model = REFINER_NETS.build("unet", **{**NET, **kw})
    with torch.no_grad():
        for name, p in model.named_parameters():
            if not name.endswith("bias") and p.abs().sum() == 0:
                p.normal_(0, 0.05)
    return model.eval()


def _refiner(steps=3, seed=0, patch=16, overlap=8, eta=0.0, model_seed=0):
    return Refiner(_nonzero_unet(model_seed), residual_scale=0.05, prediction="v", steps=steps, seed=seed,
                   patch=patch, overlap=overlap, eta=eta, device="cpu")


def test_cosine_schedule_and_parameterisations():
    t = torch.linspace(0, 1, 101)
    ab = alpha_bar(t)
    assert ab[0] == pytest.approx(1.0, abs=1e-6) and ab[-1] == pytest.approx(0.0, abs=1e-7)
    assert (ab[1:] <= ab[:-1]).all()
    assert alpha_bar(torch.tensor([0.5])).item() == pytest.approx(0.5, abs=0.03)  # cosine: half signal near t=0.5
    gen = torch.Generator().manual_seed(0)
    x0, noise = torch.randn(4, 3, 8, 8, generator=gen), torch.randn(4, 3, 8, 8, generator=gen)
    tt = torch.tensor([0.05, 0.3, 0.7, 0.95])
    x_t = q_sample(x0, tt, noise)
    for prediction in ("v", "eps"):
        recovered = x0_from_prediction(x_t, target_of(x0, noise, tt, prediction), tt, prediction)
        torch.testing.assert_close(recovered, x0, atol=1e-4, rtol=1e-4)
    # at t = 1 the sample is pure noise and v = -x0
    one = torch.ones(4)
    torch.testing.assert_close(q_sample(x0, one, noise), noise)
    torch.testing.assert_close(target_of(x0, noise, one, "v"), -x0, atol=1e-6, rtol=0)


def test_unet_shapes_zero_init_and_size_checks():
    model = REFINER_NETS.build("unet", **NET)
    x, c = torch.randn(2, 3, 16, 24), torch.rand(2, 3, 16, 24)
    out = model(x, c, torch.rand(2))
    assert out.shape == x.shape and torch.count_nonzero(out) == 0  # an untrained refiner adds nothing
    assert model.size_multiple == 4 and count_parameters(model) > 1000
    with pytest.raises(ValueError, match="multiple of 4"):
        model(torch.randn(1, 3, 18, 16), torch.rand(1, 3, 18, 16), torch.rand(1))
    default = REFINER_NETS.build("unet", base_channels=32, channel_mults=[1, 2, 2], pixel_unshuffle=2)
    assert count_parameters(default) == 894_828  # the CPU default of config.yaml (reported in docs/superres.md)
    assert _nonzero_unet()(x, c, torch.rand(2)).abs().mean() > 0


def test_ddim_is_deterministic_per_seed_and_keeps_the_range():
    image = np.random.default_rng(1).random((20, 28, 3)).astype(np.float32)
    a, b = _refiner(seed=3).refine(image), _refiner(seed=3).refine(image)
    np.testing.assert_array_equal(a, b)
    c = _refiner(seed=4).refine(image)
    assert np.abs(a - c).max() > 1e-4
    assert a.shape == image.shape and a.min() >= 0 and a.max() <= 1
    # order independence: the noise comes from (seed, image), not from a call counter
    r = _refiner(seed=3)
    r.refine(np.zeros((20, 28, 3), np.float32))
    np.testing.assert_array_equal(r.upscale(image), a)
    # eta > 0 is stochastic but still seeded
    np.testing.assert_array_equal(_refiner(eta=1.0).refine(image), _refiner(eta=1.0).refine(image))


def test_ramps_cross_fade_to_one():
    total, patch, overlap = 40, 16, 8
    starts = [0, 8, 16, 24]
    acc = torch.zeros(total)
    for s in starts:
        acc[s:s + patch] += _ramp(patch, s, total, overlap)
    torch.testing.assert_close(acc, torch.ones(total))
    assert _ramp(patch, 8, total, overlap)[:2].sum() == 0  # the outer quarter of an overlap is dropped


class LocalConv(nn.Module):
    """Two 3x3 convs (receptive radius 2): patch predictions equal whole-image ones away from patch borders."""

    size_multiple = 1

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.a, self.b = nn.Conv2d(6, 8, 3, padding=1), nn.Conv2d(8, 3, 3, padding=1)

    def forward(self, x, c, t):
        return self.b(torch.tanh(self.a(torch.cat([x, c], 1)))) * (1 + t[:, None, None, None])


@torch.no_grad()
def test_patchwise_prediction_is_seam_free():
    gen = torch.Generator().manual_seed(0)
    x, c = torch.randn(1, 3, 45, 61, generator=gen), torch.rand(1, 3, 45, 61, generator=gen)
    model = LocalConv()
    whole = model(x, c, torch.tensor([0.3]))
    for patch, overlap, batch in ((16, 8, 1), (16, 12, 5), (24, 8, 3)):
        patched = predict_patched(model, x, c, 0.3, patch, overlap, batch=batch)
        torch.testing.assert_close(patched, whole, atol=1e-5, rtol=1e-5)
    # a real UNet (attention: not exactly local): whole-image DDIM vs patch-wise, and no jump at patch borders
    refiner_whole, refiner_patched = _refiner(patch=64, overlap=0), _refiner(patch=16, overlap=8)
    image = np.clip(np.asarray(Image.fromarray(textures(1, 64, 5)[0]).resize((48, 48))) / 255.0, 0, 1)
    a, b = refiner_whole.refine(image.astype(np.float32)), refiner_patched.refine(image.astype(np.float32))
    diff = np.abs(a - b)
    assert diff.mean() < 0.02
    col_jumps = np.abs(np.diff(b, axis=1)).mean(axis=(0, 2))  # mean |x[j+1]-x[j]| per column boundary
    borders = [s - 1 + k for s in (8, 16, 24, 32) for k in range(2, 6)]  # where two windows cross-fade
    assert col_jumps[borders].max() < 2.0 * np.median(col_jumps)


def _train_cfg(steps):
    return {"patch": 16, "val_images": 2, "val_sample_steps": 2,
            "engine": {"steps": steps, "batch_size": 4, "lr": 1e-3, "warmup_steps": 1, "ema_decay": 0.9,
                       "val_every": 2, "save_every": 2, "log_every": 2, "device": "cpu"}}


def _train(data_dir, out, steps, **kw):
    return train_refiner(data_dir, model_out=out / "model.pt", metrics_csv=out / "metrics.csv",
                         curve_png=out / "curve.png", scale=2, upscaler="bicubic", net=NET, prediction="v",
                         train_cfg=_train_cfg(steps), seed=0, progress=False, **kw)


def test_train_refiner_resumes_after_a_kill_and_loads_as_an_upscaler(data_dir, tmp_path):
    straight = _train(data_dir, tmp_path / "straight", 4)
    assert straight.resumed_from == 0
    rows = pd.read_csv(tmp_path / "straight" / "metrics.csv")
    assert {"loss", "val_loss", "val_neg_loss", "val_psnr_refined", "val_hf_ratio_condition"} <= set(rows.columns)
    _, b = killed_then_resumed(lambda out, **kw: _train(data_dir, out, 4, **kw), tmp_path / "killed", 2)
    a = load_checkpoint(tmp_path / "straight" / "model.pt")
    assert a["kind"] == "refiner" and a["model_kwargs"] == NET
    assert a["config"]["diffusion"]["prediction"] == "v" and a["config"]["diffusion"]["residual_scale"] > 0
    assert_same_weights(a["state_dict"], b["state_dict"])

    refiner = Refiner.from_checkpoint(tmp_path / "straight" / "model.pt", steps=2, patch=16, overlap=8, device="cpu")
    chain = RefinedUpscaler(ClassicalUpscaler("bicubic", 2), refiner, tile=8, overlap=4)
    out = chain.upscale(np.random.default_rng(0).random((20, 12, 3)).astype(np.float32))
    assert out.shape == (40, 24, 3) and chain.scale == 2 and "refine (2 steps)" in chain.name


def test_cli_train_and_refine_a_folder(data_dir, tmp_path):
    cfg = {"seed": 0, "refiner": {"net": NET, "prediction": "eps", "train": _train_cfg(2)}}
    (tmp_path / "cfg.yaml").write_text(json.dumps(cfg))
    model = tmp_path / "ref" / "model.pt"
    assert cli_main(["train-refiner", "--data-dir", str(data_dir), "--model-out", str(model), "--config",
                     str(tmp_path / "cfg.yaml"), "--upscaler", "lanczos", "--scale", "2", "--no-progress"]) == 0
    src = tmp_path / "in"
    src.mkdir()
    rgba = np.dstack([textures(1, 36, 9)[0], np.full((36, 36), 255, np.uint8)])
    rgba[:4, :, 3] = 0
    Image.fromarray(rgba).save(src / "a.png")
    assert cli_main(["refine", str(src), str(tmp_path / "out"), "--model", str(model), "--steps", "2",
                     "--patch", "16", "--overlap", "8", "--device", "cpu"]) == 0
    with Image.open(tmp_path / "out" / "a.png") as im:
        out = np.asarray(im)
    assert out.shape == (36, 36, 4) and (out[:4, :, 3] == 0).all() and (out[4:, :, 3] == 255).all()
    assert json.loads((tmp_path / "out" / "provenance.json").read_text())["steps"] == 2



def _sr_checkpoint(path, **train):
    """An SR checkpoint carrying only what the refiner reads from it: the LR its net was trained on."""
    save_checkpoint(path, model_checkpoint(kind="sr", config={"train": train}, model_kwargs={}, state_dict={},
                                           step=0, best_val=None, data_hash="x"))
    return path


def test_an_sr_condition_gets_the_lr_its_net_was_trained_on(data_dir, tmp_path):
    """The refiner's pairs after an SR net carry that net's training LR (softness, noise), as the SR fine-tunes'
    do; a classical condition keeps the computed bicubic LR. A net trained on the tree's coarser zoom needs the
    tile index (was: every refiner trained on bicubic LR, whatever its net had learned on)."""
    bicubic_train, _, plain_hash = condition_pairs(data_dir, {"method": "bicubic", "scale": 2}, 2, 2, 0, None)
    soft = _sr_checkpoint(tmp_path / "soft.pt", lr_source="bicubic", lr_blur=1.0)
    soft_train, soft_val, soft_hash = condition_pairs(data_dir, {"checkpoint": str(soft), "scale": 2}, 2, 2, 0, None)
    np.testing.assert_array_equal(soft_train.hr, bicubic_train.hr)
    np.testing.assert_array_equal(soft_train.lr, blur_lr(bicubic_train.lr, 1.0))
    assert len(soft_val) == 2 and soft_hash.startswith(plain_hash + "+sr:") and soft_hash != plain_hash
    old = _sr_checkpoint(tmp_path / "old.pt")  # a checkpoint older than the LR keys: bicubic, untouched
    np.testing.assert_array_equal(condition_pairs(data_dir, {"checkpoint": str(old), "scale": 2}, 2, 2, 0,
                                                  None)[0].lr, bicubic_train.lr)
    pyramid = _sr_checkpoint(tmp_path / "pyramid.pt", lr_source="pyramid")
    with pytest.raises(ValueError, match="index"):
        condition_pairs(data_dir, {"checkpoint": str(pyramid), "scale": 2}, 2, 2, 0, None)
