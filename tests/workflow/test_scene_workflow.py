"""Options that start from the scene generator: its model instead of the AE, and a run that makes the samples."""
import json

import pytest
import yaml
from PIL import Image
from workflow_helpers import REPO, TEST_CONFIGS, plan, run

from rockzoom.config import ConfigError, load_config


def scene_config(tmp_path, **scene):
    cfg = yaml.safe_load((REPO / "config" / "test.yaml").read_text())
    cfg["options"]["option_t"] = {"ae_size": 64, "start": "scene", "detail": False}
    # the demo ground is small: two 128 px windows of it per side, spread out
    cfg["scene"] = {"fit": {"source_size": 128, "max_sources": 4, "min_valid": 0.9, "grid": 64}, **scene}
    path = tmp_path / "scene.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return [TEST_CONFIGS[0], path]


def test_a_scene_start_fits_the_scene_model_instead_of_the_ae(tmp_path):
    counts = plan(["results/generated/option_t/provenance.json"], tmp_path, scene_config(tmp_path))
    assert counts.get("fit_scene_model") == 1 and counts.get("generate") == 1
    assert not {"train_ae", "fit_prior", "extract_latents", "build_patch_banks"} & set(counts)


def test_bad_scene_settings_fail_before_any_job(tmp_path):
    files = scene_config(tmp_path, synthesis={"patchsize": 7})
    with pytest.raises(ConfigError, match="scene.synthesis"):
        load_config(*files[1:])
    files = scene_config(tmp_path, ground_size=1024)
    with pytest.raises(ConfigError, match="scene.ground_size"):
        load_config(*files[1:])


@pytest.mark.slow
def test_scene_samples_end_to_end(tmp_path):
    files = scene_config(tmp_path)
    run(["results/generated/option_t/provenance.json"], tmp_path, files)
    prov = json.loads((tmp_path / "results" / "generated" / "option_t" / "provenance.json").read_text())
    assert prov["sampler"] == "scene" and len(prov["checkpoints"]["scene"]["sha256"]) == 64
    assert len(prov["checks"]["scene"]["sources"]) == 2
    pngs = sorted((tmp_path / "results" / "generated" / "option_t" / "samples").glob("*.png"))
    assert len(pngs) == 2
    with Image.open(pngs[0]) as im:
        assert im.size == (64, 64)


def test_the_realism_table_plans_a_scene_row_per_size(tmp_path):
    files = scene_config(tmp_path)
    cfg = yaml.safe_load(files[1].read_text())
    cfg["benchmark"]["scene_sizes"] = [256, 512]
    files[1].write_text(yaml.safe_dump(cfg))
    counts = plan(["results/benchmark/realism.md"], tmp_path, files)
    assert counts.get("sample_scenes") == 2 and counts.get("fit_scene_model") == 1, counts
    cfg["benchmark"]["scene_sizes"] = [384]
    files[1].write_text(yaml.safe_dump(cfg))
    with pytest.raises(ConfigError, match="benchmark.scene_sizes"):
        load_config(*files[1:])
