"""End to end through a real SLURM: the workflow runs with `--profile profiles/slurm` and every job goes through
sbatch and shows in `sacct` as COMPLETED.

Needs a working SLURM with accounting (tests/slurm/setup_slurm.sh makes a single-node one) and is opt-in:
    ROCKZOOM_SLURM=1 pytest -m slurm tests/workflow/test_slurm.py        (.ci/slurm.sh does both)
ROCKZOOM_SLURM_TARGET picks the target (default: datasets), ROCKZOOM_SLURM_CONFIG the config laid over
config/config.yaml (default: config/test.yaml).
When the cluster offers GRES gpu (setup_slurm.sh adds placeholder GPUs on a machine without any), the run also trains
the test config's option_a SR net: that job must be given a GPU by SLURM (sacct AllocTRES gres/gpu=1, and
CUDA_VISIBLE_DEVICES in the job, which rockzoom.util.devices respects), while no CPU job holds one.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TARGET = os.environ.get("ROCKZOOM_SLURM_TARGET", "datasets")
CONFIG = Path(os.environ.get("ROCKZOOM_SLURM_CONFIG", REPO / "config/test.yaml"))


def _skip_reason() -> str | None:
    if os.environ.get("ROCKZOOM_SLURM") != "1":
        return "SLURM integration test is opt-in: set ROCKZOOM_SLURM=1 (after tests/slurm/setup_slurm.sh)"
    if shutil.which("sinfo") is None or shutil.which("sacct") is None:
        return "no SLURM client tools (sinfo/sacct) on PATH"
    try:
        subprocess.run(["sinfo", "-h"], check=True, capture_output=True, timeout=30)
        subprocess.run(["sacct", "-n", "-X", "-S", "now-1minutes"], check=True, capture_output=True, timeout=30)
    except (subprocess.SubprocessError, OSError) as e:
        return f"SLURM is not answering (sinfo/sacct failed: {e})"
    try:
        import snakemake_executor_plugin_slurm  # noqa: F401
    except ImportError:
        return "snakemake-executor-plugin-slurm is not installed (pip install -e '.[slurm]')"
    return None


pytestmark = [pytest.mark.slurm, pytest.mark.skipif(_skip_reason() is not None, reason=str(_skip_reason()))]


def _default_partition() -> str:
    out = subprocess.run(["sinfo", "-h", "-o", "%P"], check=True, capture_output=True, text=True).stdout.split()
    default = [p for p in out if p.endswith("*")]
    return (default or out)[0].rstrip("*")


def _user_account() -> str:
    out = subprocess.run(["sacctmgr", "-n", "-P", "list", "assoc", f"user={os.environ.get('USER') or 'root'}",
                          "format=account"], capture_output=True, text=True).stdout.split()
    return out[0] if out else ""


def _sacct(run_uuid: str) -> list[dict]:
    """Allocations (no steps) of this Snakemake run: Snakemake names every job after its run id."""
    out = subprocess.run(["sacct", "-n", "-X", "-P", "-S", "now-2hours", "--name", run_uuid,
                          "-o", "JobID,State,ExitCode,Partition,Account,AllocTRES,Comment"],
                         check=True, capture_output=True, text=True).stdout
    keys = ["jobid", "state", "exitcode", "partition", "account", "tres", "comment"]
    return [dict(zip(keys, line.split("|"))) for line in out.splitlines() if line.strip()]


def _cluster_gpus() -> int:
    gres = subprocess.run(["sinfo", "-h", "-o", "%G"], capture_output=True, text=True).stdout
    return max([int(n) for n in re.findall(r"gpu(?::[\w.-]+)?:(\d+)", gres)] or [0])


def _sr_model_target() -> tuple[str, str]:
    """The SR model of the test config's option_a, and its rule's log."""
    import rockzoom.config as rc

    ref = rc.option(rc.load_config(CONFIG), "option_a").sr_model
    return ref.path, f"logs/train_sr/{ref.tag}.log"


def test_target_runs_through_slurm(tmp_path):
    assert CONFIG.is_file(), f"test config {CONFIG} is missing"
    workdir = tmp_path / "run"
    workdir.mkdir()
    env = dict(os.environ)
    env.setdefault("ROCKZOOM_SLURM_PARTITION", _default_partition())
    account = env.get("ROCKZOOM_SLURM_ACCOUNT") or _user_account()
    if account:
        env["ROCKZOOM_SLURM_ACCOUNT"] = account
    gpu_target = _sr_model_target() if _cluster_gpus() >= 1 else None
    if gpu_target:  # fit the GPU rules on this small node: 1 core per GPU, 4 GB (3 GB per pyramid shard)
        env["ROCKZOOM_SLURM_CPUS_PER_GPU"] = "1"
        env["ROCKZOOM_SLURM_CORES"] = "2"
        env["ROCKZOOM_SLURM_RESOURCES"] = "train_sr:mem_mb=4000 upscale_pyramid_shard:mem_mb=3000"
    else:
        print("the cluster offers no GRES gpu: GPU rules are left out of this run")
    # the sharded pyramid as well: Lanczos x4 over the 8x8 demo field in 4x4-tile shards = 4 shard jobs
    pyramid_overlay = tmp_path / "pyramid.yaml"
    pyramid_overlay.write_text("pyramid: {upscale: lanczos, scale: 4, max_tiles: null, shard_tiles: 4}\n")
    # the run happens in an empty folder, where the Snakefile's `configfile: config/config.yaml` does not exist
    cmd = [sys.executable, "-m", "snakemake", TARGET, "pyramid", *([gpu_target[0]] if gpu_target else []),
           "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
           "--profile", str(REPO / "profiles/slurm"), "--configfile", str(REPO / "config/config.yaml"), str(CONFIG),
           str(pyramid_overlay),
           # poll this idle one-node cluster fast; the profile's defaults are meant for busy clusters
           "--slurm-init-seconds-before-status-checks", "5", "--seconds-between-status-checks", "5",
           "--latency-wait", "10"]
    t0 = time.monotonic()
    run = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1500)
    seconds = time.monotonic() - t0
    log = run.stdout + run.stderr
    (tmp_path / "snakemake.log").write_text(log)
    print(f"snakemake {TARGET} through SLURM: {seconds:.0f} s (exit {run.returncode}); log {tmp_path}/snakemake.log")
    assert run.returncode == 0, f"snakemake failed:\n{log[-6000:]}"

    # the profiles were applied: the SLURM one, with the workflow's default profile on top
    assert "Using profiles" in log and "profiles/slurm" in log, log[:2000]
    match = re.search(r"SLURM run ID: ([0-9a-f-]{36})", log)
    assert match, f"no 'SLURM run ID' in the log: the slurm executor was not used\n{log[:3000]}"
    n_submitted = len(re.findall(r"has been submitted with SLURM jobid \d+", log))
    assert n_submitted >= 2, f"expected several SLURM jobs, got {n_submitted}:\n{log[-4000:]}"

    # outputs
    if TARGET == "datasets":
        summaries = sorted(workdir.glob("results/data/s*/summary.json"))
        assert summaries, "no results/data/s*/summary.json written"
        for path in summaries:
            summary = json.loads(path.read_text())
            assert summary, f"{path} is empty"
            size = int(path.parent.name[1:])
            for split in ("train", "val", "test"):
                arr = path.parent / f"{split}.npy"
                if arr.exists():
                    import numpy as np

                    a = np.load(arr, mmap_mode="r")
                    assert a.dtype == np.uint8 and a.shape[1:3] == (size, size), (arr, a.dtype, a.shape)
    assert (workdir / "results/tiles/index.csv").stat().st_size > 0

    # every job went through SLURM and is COMPLETED in the accounting database (it may lag a few seconds)
    for _ in range(30):
        rows = _sacct(match.group(1))
        if len(rows) >= n_submitted and all(r["state"] == "COMPLETED" for r in rows):
            break
        time.sleep(1)
    print("sacct:\n" + "\n".join(" ".join(r.values()) for r in rows))
    assert len(rows) == n_submitted, f"sacct lists {len(rows)} jobs of this run, Snakemake submitted {n_submitted}"
    assert all(r["state"] == "COMPLETED" and r["exitcode"] == "0:0" for r in rows), rows
    assert {r["partition"] for r in rows} == {env["ROCKZOOM_SLURM_PARTITION"]}, rows
    if account:
        assert {r["account"] for r in rows} == {account}, rows
    def rule_of(row):  # the executor's job comment, kept with AccountingStoreFlags=job_comment (setup_slurm.sh)
        m = re.match(r"rule_(\w+?)(?:_wildcards_.*)?$", row["comment"])
        return m.group(1) if m else None

    rules_in_sacct = {rule_of(r) for r in rows} - {None}
    if rules_in_sacct:
        expected = {"index_tiles", "build_dataset"} if TARGET == "datasets" else {"index_tiles"}
        assert expected | ({"train_sr"} if gpu_target else set()) <= rules_in_sacct, rules_in_sacct
    for r in rows:  # GPUs only where the profile asks for them
        holds_gpu = "gres/gpu=" in r["tres"]
        if rule_of(r) in {"train_sr", "upscale_pyramid_shard"} and gpu_target:
            assert "gres/gpu=1" in r["tres"], r
        elif rule_of(r) is not None:
            assert not holds_gpu, f"CPU job holds a GPU: {r}"
    shard_jobs = [r for r in rows if rule_of(r) == "upscale_pyramid_shard"]
    if rules_in_sacct:
        assert len(shard_jobs) >= 4 and {"pyramid_shards", "upscale_pyramid"} <= rules_in_sacct, rules_in_sacct
    assert len(list((workdir / "results/pyramid/shards-z25").glob("*_*.json"))) >= 4
    assert (workdir / "results/pyramid/z25/summary.json").exists()
    if gpu_target:
        assert (workdir / gpu_target[0]).stat().st_size > 0
        job_log = (workdir / gpu_target[1]).read_text()
        # rockzoom.util.devices takes the GPU(s) SLURM assigned instead of locking slots of its own
        assert "already assigned by CUDA_VISIBLE_DEVICES=" in job_log, job_log[-2000:]
