"""The auto-fitted split in the workflow: on a tree that supports 256 and 1024 px but not 2048 px, option_c fails at
once in build_dataset naming the size, before any training job, and option_a runs."""
import json

import numpy as np
import pytest
import yaml
from PIL import Image
from workflow_helpers import REPO, plan, run

from rockzoom.config import paths

BASE_CONFIG = REPO / "config" / "config.yaml"
TEST_CONFIG = REPO / "config" / "test.yaml"


def small_tree(root, nx=12, ny=6, x0=8000, y0=16000):
    """nx x ny XYZ tiles of smooth random colour: three complete 1024 px groups, no complete 2048 px group."""
    rng = np.random.default_rng(0)
    for i in range(nx):
        for j in range(ny):
            base = rng.integers(40, 200, 3)
            a = np.empty((256, 256, 4), np.uint8)
            a[..., :3] = np.clip(base + rng.normal(0, 20, (256, 256, 3)), 0, 255)
            a[..., 3] = 255
            path = root / "23" / str(x0 + i) / f"{y0 + j}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(a, "RGBA").save(path, compress_level=1)
    return root


@pytest.fixture
def tree_config(tmp_path):
    tree = small_tree(tmp_path / "tree")
    overlay = {
        "tiles": {"dir": str(tree), "scheme": "xyz"},
        "dataset": {"sizes": [256, 1024, 2048]},
        "split": {"block_zoom": "auto"},
        "options": {
            "option_a": {"ae_size": 256, "upscale": "sr", "scale": 4, "sr_model": {"net": "rlfn", "hr": 256}},
            "option_c": {"ae_size": 256, "upscale": "sr", "scale": 8, "sr_model": {"net": "rlfn", "hr": 256}},
        },
        "benchmark": {"hr_size": 1024, "ae_sizes": [256], "pipelines": ["option_a"], "refine": False},
        "ae_variants": {"size": 256},
        "sr": {"train": {"lr_source": "bicubic"}},  # the tree holds zoom 23 only: no coarser zoom to read LR from
    }
    path = tmp_path / "tree.yaml"
    path.write_text(yaml.safe_dump(overlay))
    return [BASE_CONFIG, TEST_CONFIG, path]


@pytest.mark.slow  # ~1-1.5 min on 2 shared cores: three snakemake runs and three plans
def test_unsupported_size_fails_option_c_at_once_and_option_a_plans(tmp_path, tree_config):
    work = tmp_path / "work"
    work.mkdir()
    proc = run(["option_c"], work, tree_config, check=False)
    assert proc.returncode != 0
    fit = json.loads((work / "results" / "tiles" / "split.json").read_text())
    assert fit["auto"] and fit["block_zoom"] == 21 and fit["unsupported"] == [2048]
    log = (work / "logs" / "build_dataset" / "s2048.log").read_text()
    assert "dataset size 2048 px" in log and "option_c" in log and "dataset.sizes" in log
    assert not list((work / "logs").glob("train_*")), "a training job started"
    counts = plan(["option_a"], work, tree_config)
    assert "train_sr" in counts and "fit_scene_model" in counts  # option_a starts from the scene generator
    assert fit["sizes"]["256"]["supported"] and fit["sizes"]["1024"]["supported"]
    # the report's inspection of the same tree says the same
    assert plan(["all"], work, tree_config)["inspect_tiles"] == 1
    run([paths.tile_inspect("summary.json")], work, tree_config)
    summary = json.loads((work / paths.tile_inspect("summary.json")).read_text())
    assert summary["targets"]["option_a"] == "runs" and summary["targets"]["option_c"] == "needs s2048"
    assert summary["split"]["block_zoom"] == 21 and (work / paths.tile_inspect("coverage.png")).stat().st_size > 0


@pytest.mark.slow
def test_keep_going_runs_option_a_while_option_c_fails(tmp_path, tree_config):
    proc = run(["-k", "option_a", "option_c"], tmp_path, tree_config, check=False)
    assert proc.returncode != 0
    assert (tmp_path / "results" / "generated" / "option_a" / "provenance.json").exists()
    assert not (tmp_path / "results" / "generated" / "option_c").exists()
