import json

import pytest
import yaml
from workflow_helpers import REPO, plan, run

TEST_CONFIG = REPO / "config" / "test.yaml"
BASE_CONFIG = REPO / "config" / "config.yaml"


def test_dry_run_plans_demo_to_datasets(tmp_path):
    counts = plan(["datasets"], tmp_path, [BASE_CONFIG, TEST_CONFIG])
    assert counts["demo_tiles"] == 1 and counts["index_tiles"] == 1 and counts["split_blocks"] == 1
    assert counts["build_dataset"] == 4  # s64, s128, s256, s512


def real_config(tmp_path, real_tiles):
    cfg = yaml.safe_load((REPO / "config" / "real-tiles.yaml").read_text())
    cfg["tiles"]["dir"] = str(real_tiles)
    path = tmp_path / "real.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_dry_run_with_a_tile_dir_skips_the_demo(tmp_path, real_tiles):
    counts = plan(["datasets"], tmp_path, [BASE_CONFIG, TEST_CONFIG, real_config(tmp_path, real_tiles)])
    assert "demo_tiles" not in counts and counts["build_dataset"] == 2  # the real tree at block zoom 22: 256, 512


@pytest.mark.parametrize(
    "change, key",
    [
        ({"dataset": {"sizes": [300]}}, "sizes"),
        ({"tiles": {"scheme": "google"}}, "scheme"),
        ({"tiles": {"dir": "/nonexistent/tiles"}}, "tiles.dir"),
        ({"split": {"block_zoom": 23}}, "dataset.sizes"),
        ({"dataset": {"sizes": [256], "bogus": 1}}, "bogus"),
        ({"seed": "zero"}, "seed"),
    ],
)
def test_bad_config_fails_before_any_job_naming_the_key(tmp_path, change, key):
    cfg = yaml.safe_load(TEST_CONFIG.read_text())
    for section, value in change.items():
        if isinstance(value, dict):
            cfg.setdefault(section, {}).update(value)  # test.yaml is an overlay: it may lack the section
        else:
            cfg[section] = value
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(cfg))
    proc = run(["-n"], tmp_path, [BASE_CONFIG, bad], check=False)
    assert proc.returncode != 0
    text = proc.stdout + proc.stderr
    assert key in text, text[-3000:]
    assert not (tmp_path / "results").exists()


@pytest.mark.slow
def test_demo_to_datasets_runs_and_nothing_is_left_to_do(tmp_path):
    run(["datasets"], tmp_path, [BASE_CONFIG, TEST_CONFIG])
    for size in (64, 128, 256, 512):
        summary = json.loads((tmp_path / "results" / "data" / f"s{size}" / "summary.json").read_text())
        assert all(summary["splits"][s]["count"] > 0 for s in ("train", "val", "test")), summary
    proc = run(["-n", "datasets"], tmp_path, [BASE_CONFIG, TEST_CONFIG])
    assert "Nothing to be done" in proc.stdout + proc.stderr
