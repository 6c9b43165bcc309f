import json
import logging
import math
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
from resume import Killed, kill_at
from tiny_task import TinyTask  # noqa: E402

from rockzoom.engine import EngineConfig, dihedral, random_dihedral, train  # noqa: E402
from rockzoom.engine.schedule import lr_at  # noqa: E402
from rockzoom.util.checkpoint import load_checkpoint  # noqa: E402

BASE = dict(steps=12, batch_size=4, lr=3e-3, weight_decay=0.01, warmup_steps=2, min_lr_ratio=0.1, grad_clip=1.0,
            ema_decay=0.9, val_every=4, save_every=3, log_every=2, seed=7, bf16=True, device="cpu")


def run(tmp, task=None, **overrides):
    cfg = EngineConfig.from_dict({**BASE, **overrides})
    return train(task or TinyTask(), cfg, model_out=tmp / "model.pt", state_dir=tmp / "model.state",
                 metrics_csv=tmp / "metrics.csv", curve_png=tmp / "curve.png", stage_config={"t": 1},
                 data_hash="d", progress=False)


def weights(path):
    return load_checkpoint(path)["state_dict"]


def assert_same(a, b, atol=0.0):
    assert a.keys() == b.keys()
    for k in a:
        assert torch.allclose(a[k], b[k], atol=atol, rtol=0), k


def test_config_from_dict_names_bad_keys():
    with pytest.raises(ValueError, match="unknown keys \\['stepz'\\]"):
        EngineConfig.from_dict({**BASE, "stepz": 3})
    d = dict(BASE)
    del d["lr"]
    with pytest.raises(ValueError, match="missing keys \\['lr'\\]"):
        EngineConfig.from_dict(d)
    with pytest.raises(ValueError, match="ema_decay"):
        EngineConfig.from_dict({**BASE, "ema_decay": 1.5})


def test_lr_schedule_warmup_then_cosine():
    cfg = EngineConfig.from_dict({**BASE, "steps": 102, "warmup_steps": 2})
    assert lr_at(0, cfg) == pytest.approx(cfg.lr / 2)
    assert lr_at(1, cfg) == pytest.approx(cfg.lr)
    assert lr_at(2, cfg) == pytest.approx(cfg.lr)
    assert lr_at(101, cfg) == pytest.approx(cfg.lr * cfg.min_lr_ratio)
    assert lr_at(52, cfg) < lr_at(30, cfg)


def test_dihedral_group_covers_eight_distinct_transforms():
    t = torch.arange(16.0).reshape(1, 1, 4, 4)
    outs = {tuple(dihedral(t, k).flatten().tolist()) for k in range(8)}
    assert len(outs) == 8
    img = torch.rand(6, 3, 8, 8)
    small = torch.nn.functional.avg_pool2d(img, 2)
    mask = img[:, 0] > 0.5
    a, b, m = random_dihedral(img, small, mask, generator=torch.Generator().manual_seed(0))
    # the same transform hits every tensor: downsampling commutes with it
    assert torch.allclose(torch.nn.functional.avg_pool2d(a, 2), b, atol=1e-6)
    assert torch.equal(a[:, 0] > 0.5, m)


def test_train_writes_outputs_and_keeps_best_on_validation(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="rockzoom")
    result = run(tmp_path)
    ckpt = torch.load(tmp_path / "model.pt", weights_only=True)
    assert ckpt["kind"] == "tiny" and ckpt["step"] == result.best_step and ckpt["data_hash"] == "d"
    assert ckpt["config"] == {"t": 1} and ckpt["model_kwargs"] == {"width": 16}
    metrics = pd.read_csv(tmp_path / "metrics.csv")
    assert {"step", "loss", "lr", "images_per_s", "val_neg_mse", "grad_norm", "mse"} <= set(metrics.columns)
    val = metrics.dropna(subset=["val_neg_mse"])
    assert list(val["step"]) == [4, 8, 12]
    assert ckpt["best_val"] == pytest.approx(val["val_neg_mse"].max())
    assert (tmp_path / "curve.png").stat().st_size > 1000
    assert sum(line.startswith("step ") for line in caplog.messages) == 6
    assert result.resumed_from == 0


def test_determinism_same_seed_same_weights(tmp_path):
    run(tmp_path / "a")
    run(tmp_path / "b")
    run(tmp_path / "c", seed=8)
    assert_same(weights(tmp_path / "a/model.pt"), weights(tmp_path / "b/model.pt"))
    a, c = weights(tmp_path / "a/model.pt"), weights(tmp_path / "c/model.pt")
    assert any(not torch.equal(a[k], c[k]) for k in a)


def test_resume_after_kill_gives_identical_weights(tmp_path, caplog):
    run(tmp_path / "straight")

    cfg = EngineConfig.from_dict(BASE)
    with pytest.raises(Killed):
        train(TinyTask(), cfg, model_out=tmp_path / "r/model.pt", state_dir=tmp_path / "r/model.state",
              metrics_csv=tmp_path / "r/metrics.csv", curve_png=tmp_path / "r/curve.png", stage_config={"t": 1},
              data_hash="d", progress=False, on_step_end=kill_at(7))  # last save at step 6: step 7 is lost
    assert not (tmp_path / "r/model.pt").exists()
    caplog.set_level(logging.INFO, logger="rockzoom")
    result = run(tmp_path / "r")
    assert result.resumed_from == 6
    assert any("resuming from step 6" in line for line in caplog.messages)
    assert_same(weights(tmp_path / "straight/model.pt"), weights(tmp_path / "r/model.pt"))
    straight = pd.read_csv(tmp_path / "straight/metrics.csv")
    resumed = pd.read_csv(tmp_path / "r/metrics.csv")
    assert list(straight["step"]) == list(resumed["step"])
    assert straight["loss"].tolist() == pytest.approx(resumed["loss"].tolist())


def test_state_from_other_config_is_moved_aside(tmp_path, caplog):
    run(tmp_path, steps=6)
    result = run(tmp_path, steps=6, lr=1e-3)
    assert result.resumed_from == 0
    assert any(r.levelno == logging.WARNING and "moved to" in r.getMessage() for r in caplog.records)
    assert len(list(tmp_path.glob("model.state.stale-*"))) == 1
    # settings that cannot change results do not invalidate the state
    result = run(tmp_path, steps=6, lr=1e-3, log_every=3)
    assert result.resumed_from == 6


def test_nan_loss_stops_with_step_and_keeps_last_good_state(tmp_path):
    with pytest.raises(RuntimeError, match="non-finite loss .* at step 8.*last good state \\(step 6\\)"):
        run(tmp_path, task=TinyTask(nan_at_step=8))
    state = load_checkpoint(tmp_path / "model.state/state.pt")
    assert state["step"] == 6
    assert all(torch.isfinite(v).all() for v in state["model"].values())
    assert not (tmp_path / "model.pt").exists()


def test_all_checkpoints_load_with_weights_only(tmp_path):
    run(tmp_path)
    for name in ("model.pt", "model.state/state.pt", "model.state/best.pt"):
        payload = torch.load(tmp_path / name, weights_only=True)
        assert payload["format_version"] == 1


@pytest.mark.slow
def test_ddp_gloo_two_processes_matches_single_process(tmp_path):
    cfg = {**BASE, "steps": 6, "val_every": 3, "save_every": 3}
    single = tmp_path / "single"
    run(single, **{k: v for k, v in cfg.items() if k in BASE})
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("CUDA_VISIBLE_DEVICES", None)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           str(Path(__file__).parents[2] / "ddp_worker.py"), str(tmp_path / "ddp"), json.dumps(cfg)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    a, b = weights(single / "model.pt"), weights(tmp_path / "ddp/model.pt")
    assert_same(a, b, atol=1e-5)
    assert any(not torch.equal(v, torch.zeros_like(v)) for v in b.values())
    assert math.isfinite(load_checkpoint(tmp_path / "ddp/model.pt")["best_val"])


class InitialTask(TinyTask):
    validate_initial = True

    def param_groups(self, model):
        return [{"params": model.conv.parameters()}, {"params": model.head.parameters(), "lr_scale": 0.0}]


def test_initial_validation_and_lr_scaled_groups(tmp_path):
    torch.manual_seed(BASE["seed"])
    initial_head = InitialTask().build_model().head.weight.detach().clone()
    run(tmp_path, task=InitialTask(), ema_decay=0.0)
    metrics = pd.read_csv(tmp_path / "metrics.csv")
    assert metrics["step"].iloc[0] == 0 and not math.isnan(metrics["val_neg_mse"].iloc[0])
    final = weights(tmp_path / "model.pt")
    assert torch.equal(final["head.weight"], initial_head)  # lr_scale 0 freezes the group
