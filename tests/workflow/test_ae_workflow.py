import json

import numpy as np
import pytest
import torch
import yaml
from resume import sigkill_snakemake_when
from workflow_helpers import REPO, SHARES_ALL_RUN, SNAKEMAKE, plan, run

TEST_CONFIG = REPO / "config" / "test.yaml"
CONFIGS = [REPO / "config" / "config.yaml", TEST_CONFIG]
SAMPLERS = ["gaussian", "gmm", "slerp", "perturb"]
TINY_MODEL = {"token_grid": 4, "embed_dim": 32, "depth": 1, "heads": 2, "mlp_ratio": 2.0, "latent_grid": 4,
              "latent_channels": 2, "dec_dim": 32, "dec_depth": 1, "dec_heads": 2, "coarse_size": 8, "head_channels": 4}
TARGETS = ["results/ae/vit-s64/eval/test_metrics.json"] + [f"results/samples/vit-s64/{s}.json" for s in SAMPLERS]


def test_dry_run_plans_the_autoencoder_family(tmp_path):
    counts = plan(TARGETS, tmp_path, CONFIGS)
    assert counts["train_ae"] == 1 and counts["eval_ae"] == 1 and counts["extract_latents"] == 1
    assert counts["fit_prior"] == 1 and counts["sample"] == 4


def test_unknown_arch_is_a_clear_error(tmp_path):
    proc = run(["-n", "results/ae/nosuch-s64/model.pt"], tmp_path, CONFIGS, check=False)
    assert proc.returncode != 0
    assert "ae.archs: no arch 'nosuch'" in proc.stdout + proc.stderr


@pytest.mark.slow
@SHARES_ALL_RUN
def test_autoencoder_family_runs_end_to_end(finished_copy):
    tmp_path = finished_copy  # `all` ran the s64 AE, its eval and the config's samplers; this adds the other samplers
    run(TARGETS, tmp_path, CONFIGS)
    report = json.loads((tmp_path / "results/ae/vit-s64/eval/test_metrics.json").read_text())
    assert {"autoencoder", "thumbnail_13x13x3", "mean_colour"} == set(report["metrics"])
    for sampler in SAMPLERS:
        checks = json.loads((tmp_path / f"results/samples/vit-s64/{sampler}.json").read_text())["checks"]
        n = yaml.safe_load(TEST_CONFIG.read_text())["sample"]["n"]
        assert checks["n"] == n and 0 <= checks["flat_fraction"] <= 1
        assert np.load(tmp_path / f"results/samples/vit-s64/{sampler}.npy").shape == (n, 64, 64, 3)
    torch.load(tmp_path / "results/latents/vit-s64/prior.pt", weights_only=True)
    assert (tmp_path / "results/ae/vit-s64.state/state.pt").exists()
    assert plan(TARGETS, tmp_path, CONFIGS) == {}  # complete: nothing left to do


@pytest.mark.slow
def test_sigkill_midway_then_rerun_resumes(tmp_path):
    cfg = yaml.safe_load(TEST_CONFIG.read_text())
    engine = cfg["ae"]["archs"]["vit"]["engine"]
    engine.update(steps=100, save_every=5, log_every=5, val_every=100)
    cfg["ae"]["archs"]["vit"]["model"] = TINY_MODEL
    config = tmp_path / "long.yaml"
    config.write_text(yaml.safe_dump(cfg))
    target = "results/ae/vit-s64/model.pt"
    run(["results/data/s64/summary.json"], tmp_path, [CONFIGS[0], config])
    log = tmp_path / "logs/train_ae/vit-s64.log"
    cmd = SNAKEMAKE + ["--snakefile", str(REPO / "Snakefile"), "--directory", str(tmp_path), "--configfile",
                       str(CONFIGS[0]), str(config), "--cores", "2", target]
    sigkill_snakemake_when(cmd, tmp_path, log, "step 20/100", timeout=120)
    run(["--unlock", target], tmp_path, [CONFIGS[0], config])  # a SIGKILLed snakemake leaves its directory lock behind
    assert not (tmp_path / target).exists()
    state = torch.load(tmp_path / "results/ae/vit-s64.state/state.pt", weights_only=True)
    assert 0 < state["step"] < 100  # the save at step 20 may still be in flight when the kill lands

    run(["--rerun-incomplete", target], tmp_path, [CONFIGS[0], config], timeout=600)
    text = log.read_text()
    resumed_at = int(text.split("resuming from step ")[1].split()[0])
    assert resumed_at >= state["step"]  # the state may have advanced between reading it and the kill
    assert torch.load(tmp_path / target, weights_only=True)["kind"] == "ae"
