"""The sharded pyramid in the workflow: a run killed between shards keeps its finished shards, the rerun does only
the rest, and the result equals the unsharded pyramid byte for byte."""
from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import time

import pytest
import yaml

from rockzoom.generation.pyramid import upscale_pyramid
from rockzoom.superres.upscale import ClassicalUpscaler
from workflow_helpers import REPO, SNAKEMAKE, TEST_CONFIGS, plan, run

# Lanczos x4 on the 8x8 demo field in 4x4-tile shards: 4 shard jobs.
OVERLAY = {"pyramid": {"upscale": "lanczos", "scale": 4, "max_tiles": None, "shard_tiles": 4, "batch_size": 4}}


def _digest(root):
    return {str(p.relative_to(root)): hashlib.sha1(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*.png"))}


def test_pyramid_plans_one_job_per_shard(tmp_path):
    overlay = tmp_path / "pyramid.yaml"
    overlay.write_text(yaml.safe_dump(OVERLAY))
    counts = plan(["pyramid"], tmp_path, TEST_CONFIGS + [overlay])
    # before the checkpoint has run, the shards are unknown: the plan stops at the shard list
    assert counts.get("pyramid_shards") == 1 and counts.get("upscale_pyramid") == 1


@pytest.mark.slow
def test_killed_pyramid_redoes_only_unfinished_shards_and_equals_the_unsharded_one(tmp_path):
    overlay = tmp_path / "pyramid.yaml"
    overlay.write_text(yaml.safe_dump(OVERLAY))
    configs = TEST_CONFIGS + [overlay]
    work = tmp_path / "run"
    work.mkdir()
    run(["results/tiles/index.csv"], work, configs)
    shard_dir = work / "results" / "pyramid" / "shards-z25"
    cmd = SNAKEMAKE + ["pyramid", "--snakefile", str(REPO / "Snakefile"), "--directory", str(work), "--configfile",
                       *map(str, configs), "--cores", "1"]
    proc = subprocess.Popen(cmd, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and proc.poll() is None:
        if len([p for p in shard_dir.glob("*_*.json")]) >= 1:
            break
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = sorted(p.name for p in shard_dir.glob("*_*.json"))
    assert 1 <= len(finished) < 4, finished
    stamps = {name: (shard_dir / name).stat().st_mtime_ns for name in finished}
    assert plan(["pyramid"], work, configs).get("upscale_pyramid_shard") == 4 - len(finished)
    run(["--unlock"], work, configs)  # what a killed Snakemake leaves behind
    run(["pyramid"], work, configs)
    assert {name: (shard_dir / name).stat().st_mtime_ns for name in finished} == stamps  # not redone
    assert len(list(shard_dir.glob("*_*.json"))) == 4
    out = work / "results" / "pyramid" / "z25"
    assert (out / "summary.json").exists() and 'href="24"' in (out / "tilemapresource.xml").read_text()
    ref = upscale_pyramid(work / "results" / "demo_tiles", tmp_path / "ref", ClassicalUpscaler("lanczos", 4),
                          zoom=23, shard_tiles=1000)
    got = _digest(out)
    assert got == _digest(tmp_path / "ref")
    assert len(got) == ref["output_tiles"] + ref["intermediate_tiles"][24] > 64 * 16
    assert not list(out.rglob("*.tmp*"))
