"""The execution profiles: what a SLURM run would request per rule (dry runs), and what the local profile provides.

profiles/default is Snakemake's *workflow* profile: it is applied on top of `--profile profiles/slurm` and wins key by
key, so these tests run both profiles together, as a user's command line does.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yte

REPO = Path(__file__).resolve().parents[2]
SLURM_PROFILE = REPO / "profiles/slurm/profile.yaml"
DEFAULT_PROFILE = REPO / "profiles/default/profile.yaml"
SITE_ENV = {"ROCKZOOM_SLURM_PARTITION": "cpu-part", "ROCKZOOM_SLURM_GPU_PARTITION": "gpu-part",
            "ROCKZOOM_SLURM_ACCOUNT": "lab42"}


def load_profile(path: Path, monkeypatch, env: dict | None = None, argv: list[str] | None = None) -> dict:
    for key in [*SITE_ENV, "SBATCH_PARTITION", "SBATCH_ACCOUNT", "ROCKZOOM_SLURM_GPUS", "SNAKEMAKE_PROFILE",
                "ROCKZOOM_SLURM_CPUS_PER_GPU", "ROCKZOOM_SLURM_RESOURCES", "ROCKZOOM_SLURM_CORES",
                "ROCKZOOM_NUM_GPUS", "CUDA_VISIBLE_DEVICES"]:
        monkeypatch.delenv(key, raising=False)
    for key, value in (env or {}).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(sys, "argv", ["snakemake", *(argv or [])])
    with open(path) as f:
        return yte.process_yaml(f, require_use_yte=True)


def slurm_gpu_rules(monkeypatch) -> set[str]:
    return set(load_profile(SLURM_PROFILE, monkeypatch)["set-resources"])


# ------------------------------------------------------------------------------------------------ profile files
def test_slurm_profile_site_settings_come_from_the_environment(monkeypatch):
    bare = load_profile(SLURM_PROFILE, monkeypatch)
    assert bare["executor"] == "slurm" and bare["rerun-incomplete"] is True
    assert bare["jobs"] >= 1 and bare["latency-wait"] >= 5
    assert "slurm_partition" not in bare["default-resources"] and "slurm_account" not in bare["default-resources"]
    assert all("slurm_partition" not in r for r in bare["set-resources"].values())

    site = load_profile(SLURM_PROFILE, monkeypatch, {**SITE_ENV, "ROCKZOOM_SLURM_GPUS": "2"})
    assert site["default-resources"]["slurm_partition"] == "cpu-part"
    assert site["default-resources"]["slurm_account"] == "lab42"
    for rule, res in site["set-resources"].items():
        assert res["gpu"] == 2 and res["cpus_per_gpu"] >= 1 and res["slurm_partition"] == "gpu-part", rule
        assert res["mem_mb"] > 0 and res["runtime"] > 0, rule
        assert site["set-threads"][rule] == 2 * res["cpus_per_gpu"], rule

    changed = load_profile(SLURM_PROFILE, monkeypatch, {
        "ROCKZOOM_SLURM_RESOURCES": "train_ae:gpu=2,train_ae:runtime=2h build_dataset:mem_mb=16000"})
    assert changed["set-resources"]["train_ae"]["gpu"] == 2 and changed["set-resources"]["train_ae"]["runtime"] == "2h"
    assert changed["set-resources"]["build_dataset"] == {"mem_mb": 16000}
    assert changed["set-threads"]["train_ae"] == 2 * changed["set-resources"]["train_ae"]["cpus_per_gpu"]
    assert "build_dataset" not in changed["set-threads"]
    assert bare["cores"] == 8 and changed["cores"] == 16  # train_ae: 2 GPUs x 8 cores
    with pytest.raises(Exception, match="RULE:RESOURCE=VALUE"):
        load_profile(SLURM_PROFILE, monkeypatch, {"ROCKZOOM_SLURM_RESOURCES": "train_ae:gpu"})

    sbatch = load_profile(SLURM_PROFILE, monkeypatch, {"SBATCH_PARTITION": "p", "SBATCH_ACCOUNT": "a"})
    assert sbatch["default-resources"]["slurm_partition"] == "p" and sbatch["default-resources"]["slurm_account"] == "a"


@pytest.mark.parametrize(
    "env, argv, cores, gpus",
    [
        ({"ROCKZOOM_NUM_GPUS": "2"}, [], "all", 2),
        ({"CUDA_VISIBLE_DEVICES": "1,3,5"}, ["-n"], "all", 3),
        ({"ROCKZOOM_NUM_GPUS": "0"}, [], "all", None),  # CPU box: no limit, GPU rules run on the CPU
        ({"ROCKZOOM_NUM_GPUS": "4"}, ["--profile", str(REPO / "profiles/slurm"), "option_a"], None, None),
        ({"ROCKZOOM_NUM_GPUS": "4"}, [f"--profile={REPO / 'profiles/slurm'}"], None, None),
        ({"ROCKZOOM_NUM_GPUS": "4"}, ["-e", "slurm", "--jobs", "4"], None, None),
        ({"ROCKZOOM_NUM_GPUS": "4", "SNAKEMAKE_PROFILE": str(REPO / "profiles/slurm")}, [], None, None),
        ({"ROCKZOOM_NUM_GPUS": "4"}, ["--executor", "local"], "all", 4),
    ],
)
def test_default_profile_limits_gpus_only_for_local_runs(monkeypatch, env, argv, cores, gpus):
    profile = load_profile(DEFAULT_PROFILE, monkeypatch, env, argv)
    assert profile.get("cores") == cores
    assert (profile.get("resources") or {}).get("gpu") == gpus
    assert profile["rerun-incomplete"] is True and profile["show-failed-logs"] is True
    # keys that would replace the SLURM profile's per-rule tables must never appear here
    assert not {"set-resources", "set-threads", "default-resources"} & set(profile)


# ------------------------------------------------------------------------------------------------ dry runs
def snakemake(args: list[str], cwd: Path, env: dict, stdout_only: bool = False) -> str:
    run = subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), *args],
                         cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out[-5000:]
    return run.stdout if stdout_only else out


def planned_jobs(log: str) -> list[tuple[str, dict]]:
    """(rule, resources) of every job a dry run prints."""
    jobs = []
    for block in re.split(r"\n(?=rule \w+:\n)", log):
        m = re.match(r"rule (\w+):\n", block)
        res = re.search(r"^\s+resources: (.*)$", block, re.M)
        if m and res:
            pairs = (kv.split("=", 1) for kv in res.group(1).split(", ") if "=" in kv)
            jobs.append((m.group(1), {k: v for k, v in pairs}))
    return jobs


def rules_declaring_a_gpu() -> set[str]:
    """Rules of workflow/rules/*.smk whose `resources:` name `gpu`."""
    found = set()
    for smk in (REPO / "workflow/rules").glob("*.smk"):
        for m in re.finditer(r"^(?:rule|checkpoint) (\w+):\n(.*?)(?=^\S|\Z)", smk.read_text(), re.M | re.S):
            if re.search(r"^\s+resources:\n(?:\s{8,}.*\n)*?\s{8,}gpu=", m.group(2), re.M):
                found.add(m.group(1))
    return found


def test_slurm_gpu_table_names_exactly_the_rules_that_declare_a_gpu(monkeypatch):
    # a renamed rule left in the table silently turns a CPU rule into a 32 GB GPU job (the pyramid's summary did)
    declared = rules_declaring_a_gpu()
    assert {"train_sr", "generate", "upscale_pyramid_shard"} <= declared, declared
    assert slurm_gpu_rules(monkeypatch) == declared


@pytest.mark.parametrize("configs, wanted", [(["config.yaml"], "option_c"), (["config.yaml", "gpu.yaml"], "all")],
                         ids=["cpu-config-option_c", "gpu-config-all"])
def test_slurm_dry_run_requests_gpus_only_on_gpu_rules(tmp_path, monkeypatch, configs, wanted):
    pytest.importorskip("snakemake_executor_plugin_slurm", reason="pip install -e '.[slurm]'")
    gpu_rules = slurm_gpu_rules(monkeypatch)
    monkeypatch.undo()
    env = {**os.environ, **SITE_ENV, "ROCKZOOM_NUM_GPUS": "4"}  # a login node with GPUs must not cap the cluster
    env.pop("SNAKEMAKE_PROFILE", None)
    configfiles = ["--configfile", *(str(REPO / "config" / c) for c in configs)]
    targets = snakemake(["--list-target-rules", *configfiles], tmp_path, env, stdout_only=True).split()
    target = [wanted] if wanted in targets else [t for t in targets if re.fullmatch(r"[a-z_0-9]+", t)]
    log = snakemake([*target, "-n", "-F", "--profile", str(REPO / "profiles/slurm"), *configfiles], tmp_path, env)
    assert "Using profiles" in log and "profiles/slurm" in log

    jobs = planned_jobs(log)
    assert jobs, log[-3000:]
    gpu_jobs = [(rule, res) for rule, res in jobs if int(res.get("gpu", 0) or 0) > 0]
    assert gpu_jobs, f"no job of {target} requests a GPU:\n{sorted({r for r, _ in jobs})}"
    for rule, res in jobs:
        if rule in gpu_rules:
            assert int(res.get("gpu", 0)) >= 1, (rule, res)
            assert int(res["cpus_per_gpu"]) >= 1 and res["slurm_partition"] == "gpu-part", (rule, res)
            assert int(res["mem_mb"]) >= 8000 and int(res["runtime"]) >= 60, (rule, res)
        else:
            assert int(res.get("gpu", 0) or 0) == 0, f"CPU rule {rule} requests a GPU: {res}"
            assert "cpus_per_gpu" not in res and res["slurm_partition"] == "cpu-part", (rule, res)
        assert res["slurm_account"] == "lab42", (rule, res)
    print(f"dry run of {target}: {len(jobs)} jobs, GPU rules {sorted({r for r, _ in gpu_jobs})}")
