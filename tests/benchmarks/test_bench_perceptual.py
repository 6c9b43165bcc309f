"""benchmarks/bench_perceptual.py: the network interpolation is the PSNR net at a = 0 and the fine-tune at a = 1, the
held-out reference keeps complete tiles only, and a row reports PSNR, LR consistency and the judge."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from rockzoom.data.store import save_split
from rockzoom.metrics.judges import Judge, box_down
from rockzoom.models.registry import SR_NETS
from rockzoom.util.checkpoint import FORMAT_VERSION, model_checkpoint, save_checkpoint

REPO = Path(__file__).resolve().parents[2]
SPEC = importlib.util.spec_from_file_location("bench_perceptual", REPO / "benchmarks/bench_perceptual.py")
bench = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(bench)
NET = {"arch": "rlfn", "n_blocks": 1, "n_feats": 8}


def _checkpoint(path, seed, kind):
    torch.manual_seed(seed)
    model = SR_NETS.from_config(NET, scale=4)
    save_checkpoint(path, model_checkpoint(kind=kind, config={}, model_kwargs={"scale": 4, **NET},
                                           state_dict=model.state_dict(), step=1, best_val=0.0, data_hash="x"))
    return model


def test_interpolation_ends_are_the_two_nets(tmp_path):
    psnr, other = _checkpoint(tmp_path / "p.pt", 0, "sr"), _checkpoint(tmp_path / "o.pt", 1, "sr_perceptual")
    x = torch.rand(1, 3, 8, 8)
    with torch.no_grad():
        for alpha, net in ((0.0, psnr), (1.0, other)):
            up = bench.interpolated(tmp_path / "p.pt", tmp_path / "o.pt", alpha, "x")
            torch.testing.assert_close(up.model(x), net(x))
        half = bench.interpolated(tmp_path / "p.pt", tmp_path / "o.pt", 0.5, "x").model.head.weight
        torch.testing.assert_close(half, (psnr.head.weight + other.head.weight) / 2)



def test_a_training_state_gives_its_last_weights_ema_first(tmp_path):
    _checkpoint(tmp_path / "p.pt", 0, "sr")
    live, ema = SR_NETS.from_config(NET, scale=4), SR_NETS.from_config(NET, scale=4)
    state = {"format_version": FORMAT_VERSION, "step": 7, "model": live.state_dict(), "ema": None, "optimizer": {},
             "extra": {}}
    x = torch.rand(1, 3, 8, 8)
    with torch.no_grad():
        torch.save(state, tmp_path / "state.pt")
        torch.testing.assert_close(bench.interpolated(tmp_path / "p.pt", tmp_path / "state.pt", 1.0, "x").model(x),
                                   live(x))
        torch.save({**state, "ema": ema.state_dict()}, tmp_path / "state.pt")
        torch.testing.assert_close(bench.interpolated(tmp_path / "p.pt", tmp_path / "state.pt", 1.0, "x").model(x),
                                   ema(x))

def test_heldout_reference_is_complete_tiles_and_a_row_is_scored(tmp_path):
    rng = np.random.default_rng(0)
    for split, n in (("val", 5), ("test", 4)):
        masks = np.ones((n, 64, 64), bool)
        masks[0, :4] = False  # a partial tile: left out of the reference
        save_split(tmp_path, split, (rng.random((n, 64, 64, 3)) * 200 + 20).astype(np.uint8), masks)
    ref = bench.heldout_tiles(tmp_path)
    assert ref.shape == (7, 64, 64, 3)
    lr = box_down(ref, 4)
    detail = np.tile(np.array([[3, -3, 1, -1]] * 2 + [[-3, 3, -1, 1]] * 2)[:, :, None], (16, 16, 3))
    out = (lr.repeat(4, 1).repeat(4, 2) + detail).astype(np.uint8)  # box-averages exactly to its input
    judge = Judge(ref, {"families": ["texture"], "texture": {"repeats": 2}}, reference_groups=np.arange(7))
    row = bench.score_row("nearest", out, ref, lr, judge, np.arange(7), 0.001)
    assert row["lr_psnr"] == float("inf") and row["n"] == 7 and 0 <= row["texture"] <= 1
    assert row["judge_max"] == row["texture"] and row["psnr"] < 40


def test_distortion_floor_is_the_psnr_nets_mse_plus_the_spectral_gap():
    rng = np.random.default_rng(1)
    ref = rng.integers(0, 256, (3, 32, 32, 3)).astype(np.uint8)
    assert bench.log_distortion_floor(ref, ref) == float("inf")  # a perfect net: no floor
    flat = np.rint(np.broadcast_to(ref.mean(axis=(1, 2), keepdims=True), ref.shape)).astype(np.uint8)  # means only
    mse = ((flat.astype(float) - ref) ** 2).mean()
    variance = ((ref - ref.mean(axis=(1, 2), keepdims=True)) ** 2).mean()
    # flat images have no power at all: reaching real statistics costs the real variance on top of their MSE
    assert abs(bench.log_distortion_floor(flat, ref) - 10 * np.log10(255**2 / (mse + variance))) < 1e-9
    assert abs(mse - variance) < 1  # (which here is their MSE again, up to the rounding of the means)


def test_lr_consistency_reads_the_blurred_lr_and_the_scale_control_judges_complete_coarser_tiles(tmp_path):
    from PIL import Image

    from rockzoom.superres.degradation import blur_lr

    rng = np.random.default_rng(2)
    ref = (rng.random((6, 64, 64, 3)) * 200 + 20).astype(np.uint8)
    out = ref.copy()
    lr = blur_lr(box_down(ref, 4), 0.65)  # the analogy's LR with the native softness
    judge = Judge(ref, {"families": ["texture"], "texture": {"repeats": 2}}, reference_groups=np.arange(6))
    sharp = bench.score_row("twin", out, ref, lr, judge, np.arange(6), 0.0)
    soft = bench.score_row("twin", out, ref, lr, judge, np.arange(6), 0.0, lr_blur=0.65)
    assert soft["lr_psnr"] > 45 > sharp["lr_psnr"]  # the real twin is consistent with its own blurred LR
    for i in range(6):  # a zoom-22 level: 5 complete tiles and one with a hole (left out)
        rgba = np.dstack([(rng.random((64, 64, 3)) * 255).astype(np.uint8), np.full((64, 64), 255, np.uint8)])
        if i == 5:
            rgba[:8, :8, 3] = 0
        (tmp_path / "22" / str(i)).mkdir(parents=True)
        Image.fromarray(rgba).save(tmp_path / "22" / str(i) / "0.png")
    bench.judge_coarser_zoom(tmp_path, 22, [0.0, 1.0], judge, tmp_path / "coarser.csv")
    import pandas as pd

    rows = pd.read_csv(tmp_path / "coarser.csv")
    assert rows["n"].tolist() == [5, 5] and rows["blur"].tolist() == [0.0, 1.0]
    assert rows["finest_band_ratio"][0] > rows["finest_band_ratio"][1]  # the blur softens them


def test_a_refiner_row_is_the_psnr_net_then_its_refiner_and_refuses_another_nets(tmp_path):
    from rockzoom.models.registry import REFINER_NETS
    from rockzoom.refiner.inference import Refiner
    from rockzoom.superres.upscale import build_upscaler
    from rockzoom.refiner.train import sr_condition_tag

    _checkpoint(tmp_path / "p.pt", 0, "sr")
    _checkpoint(tmp_path / "other.pt", 1, "sr")
    kwargs = {"base_channels": 8, "channel_mults": [1, 2], "blocks_per_level": 1, "attention_heads": 2,
              "pixel_unshuffle": 2}
    torch.manual_seed(0)
    unet = REFINER_NETS.build("unet", **kwargs)
    for p in unet.parameters():  # zero-initialised output layers would make the refiner a no-op
        torch.nn.init.normal_(p, std=0.05)
    config = {"diffusion": {"prediction": "v", "residual_scale": 0.05}}
    save_checkpoint(tmp_path / "r.pt", model_checkpoint(kind="refiner", config=config, model_kwargs=kwargs,
                                                        state_dict=unet.state_dict(), step=1, best_val=0.0,
                                                        data_hash="m" + sr_condition_tag(tmp_path / "p.pt")))
    lr = np.random.default_rng(0).random((8, 8, 3)).astype(np.float32)
    row = bench.refined_psnr_net(tmp_path / "p.pt", tmp_path / "r.pt", steps=2)
    net = build_upscaler(checkpoint=tmp_path / "p.pt", device="cpu").upscale(lr)
    refined = Refiner.from_checkpoint(tmp_path / "r.pt", steps=2, device="cpu").refine(net)
    np.testing.assert_allclose(row.upscale(lr), refined, atol=1e-6)
    assert np.abs(refined - net).max() > 1e-3  # the refiner did something
    with pytest.raises(ValueError, match="not trained after"):
        bench.refined_psnr_net(tmp_path / "other.pt", tmp_path / "r.pt", steps=2)


def test_cut_draws_are_disjoint_runs_in_sorted_order_and_their_summary_is_mean_sd_range(tmp_path):
    files = [f"s{i:03d}.png" for i in range(10)]
    assert bench.cut_draws(files, None) == [files]
    assert bench.cut_draws(files, 4) == [files[0:4], files[4:8]]  # the last 2 are left out
    assert bench.cut_draws(files, 5) == [files[0:5], files[5:10]]
    with pytest.raises(ValueError, match="only 10 images"):
        bench.cut_draws(files, 11)
    with pytest.raises(ValueError, match=">= 1"):
        bench.cut_draws(files, 0)
    rows = [{"texture": 0.9, "cnn": 0.7, "judge_max": 0.9}, {"texture": 0.8, "cnn": 0.85, "judge_max": 0.85},
            {"texture": 0.7, "cnn": 0.6, "judge_max": 0.7}]
    s = bench.draws_summary(rows, ["texture", "cnn"])
    assert s["draws"] == 3
    assert s["texture"] == pytest.approx(0.8) and s["texture_sd"] == pytest.approx(0.1)
    assert (s["cnn_min"], s["cnn_max"]) == (0.6, 0.85)
    assert s["judge_max"] == pytest.approx(0.8166666667)  # the mean of each draw's max, not the max of the means


def test_cuts_judged_per_draw_write_each_draw_and_their_mean(tmp_path):
    import pandas as pd
    from PIL import Image

    rng = np.random.default_rng(1)
    ref = (rng.random((8, 64, 64, 3)) * 200 + 20).astype(np.uint8)
    for i in range(7):  # 7 images of 128 px: 4 cuts each; draws of 3 leave the 7th out
        Image.fromarray((rng.random((128, 128, 3)) * 255).astype(np.uint8)).save(tmp_path / f"sample_{i:03d}.png")
    judge = Judge(ref, {"families": ["texture"], "texture": {"repeats": 2}}, reference_groups=np.arange(8))
    bench.judge_cuts({"gen": str(tmp_path / "sample_*.png")}, ref, judge, tmp_path / "cuts.csv", per_draw=3)
    table = pd.read_csv(tmp_path / "cuts.csv")
    draws = table[table["draw"] != "mean"]
    assert list(draws["draw"]) == ["0", "1"] and list(draws["first_image"]) == ["sample_000.png", "sample_003.png"]
    assert set(draws["cuts"]) == {12} and set(draws["images"]) == {3}
    mean = table[table["draw"] == "mean"].iloc[0]
    assert mean["draws"] == 2
    assert mean["texture"] == pytest.approx(draws["texture"].mean(), abs=1e-4)
    assert mean["judge_max"] == pytest.approx(draws["judge_max"].mean(), abs=1e-4)
