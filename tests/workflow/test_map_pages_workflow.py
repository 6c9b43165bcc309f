"""The map page in the workflow: `pyramid` writes index.html beside results/pyramid/z{Z}/, with each extra pyramid of
`pyramid.layers` as a layer; every option gets its sample page (results/generated/<option>/index.html)."""
from __future__ import annotations

import json
import re

import pytest
import yaml

from workflow_helpers import TEST_CONFIGS, plan, run

OVERLAY = {"pyramid": {"upscale": "lanczos", "layers": {"bicubic": {"upscale": "bicubic"}}}}


def _overlay(tmp_path):
    path = tmp_path / "layers.yaml"
    path.write_text(yaml.safe_dump(OVERLAY))
    return TEST_CONFIGS + [path]


def test_pyramid_plans_one_job_per_extra_layer_and_options_plan_their_page(tmp_path):
    counts = plan(["pyramid", "option_t"], tmp_path, _overlay(tmp_path))
    assert counts.get("upscale_pyramid_layer") == 1 and counts.get("upscale_pyramid") == 1
    assert counts.get("option_page") == 1


@pytest.mark.slow
def test_pyramid_page_switches_between_the_pyramids(tmp_path):
    work = tmp_path / "run"
    work.mkdir()
    run(["pyramid"], work, _overlay(tmp_path))
    out = work / "results" / "pyramid"
    text = (out / "z25" / "index.html").read_text()
    cfg = json.loads(re.search(r'type="application/json">(.*?)</script>', text, re.S).group(1))
    assert [la["name"] for la in cfg["layers"]] == ["input (z20-23)", "lanczos x4 (z24-25)", "bicubic x4 (z24-25)"]
    assert [la["url"] for la in cfg["layers"]][1:] == ["{z}/{x}/{y}.png", "../z25-bicubic/{z}/{x}/{y}.png"]
    assert (out / "z25-bicubic" / "index.html").exists() and (out / "z25-bicubic" / "tilemapresource.xml").exists()
    assert json.loads((out / "z25-bicubic" / "summary.json").read_text())["method"] == "bicubic"
