"""The named targets end to end on the tiny config, and what reruns after a config change."""
import json

import pytest
import yaml
from PIL import Image
from workflow_helpers import REPO, SHARES_ALL_RUN, plan
from workflow_helpers import TEST_CONFIGS as CONFIGS


def with_change(tmp_path, name, change):
    cfg = yaml.safe_load((REPO / "config" / "test.yaml").read_text())
    for dotted, value in change.items():
        node = cfg
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return [CONFIGS[0], path]


@pytest.mark.slow
@SHARES_ALL_RUN
def test_every_named_target_wrote_its_outputs(finished_all):
    for option, size in (("immediate", 256), ("option_a", 256), ("option_b", 256), ("option_c", 512)):
        folder = finished_all / "results" / "generated" / option
        pngs = sorted((folder / "samples").glob("*.png"))
        assert len(pngs) == 2
        with Image.open(pngs[0]) as im:
            assert im.size == (size, size)
        prov = json.loads((folder / "provenance.json").read_text())
        if option == "immediate":  # the AE start
            assert prov["output_size"] == size and len(prov["checkpoints"]["autoencoder"]["sha256"]) == 64
            assert 0 <= prov["checks"]["flat_fraction"] <= 1
        else:  # options a-c start from the scene generator (its default)
            assert prov["output_size"] == size and len(prov["checkpoints"]["scene"]["sha256"]) == 64
            assert prov["sampler"] == "scene" and len(prov["checks"]["scene"]["sources"]) == 2
        assert (folder / "contact_sheet.png").exists()
    table = (finished_all / "results" / "benchmark" / "table.md").read_text()
    for method in ("Bicubic", "Lanczos", "learned SR (rlfn)", "GAN SR", "SR + refine (2 steps)", "native 64 AE",
                   "immediate: AE 64 + lanczos x4"):
        assert method in table
    assert "option_a: AE" not in table  # option_a starts from the scene generator: no AE reconstruction row
    csv = (finished_all / "results" / "benchmark" / "table.csv").read_text().splitlines()
    assert len(csv) == 1 + 6 + 2 + 1  # header, 5 upscalers (with the perceptual net) + 1 refined, 2 native AEs, 1 pipeline
    pyramid = finished_all / "results" / "pyramid" / "z25"
    assert len(list((pyramid / "25").rglob("*.png"))) == 2 * 16 and (pyramid / "tilemapresource.xml").exists()
    assert len(list((pyramid / "24").rglob("*.png"))) == 2 * 4  # the intermediate zoom, averaged from z25


@pytest.mark.slow
@SHARES_ALL_RUN
def test_nothing_to_do_after_a_finished_run(finished_all):
    assert plan(["all"], finished_all, CONFIGS) == {}


@pytest.mark.slow
@SHARES_ALL_RUN
def test_an_sr_setting_reruns_sr_and_downstream_only(finished_all, tmp_path):
    counts = plan(["all"], finished_all, with_change(tmp_path, "sr", {"sr.train.charbonnier_eps": 0.01}))
    assert {"train_sr", "generate", "benchmark_table"} <= set(counts)
    assert not {"train_ae", "build_dataset", "index_tiles", "demo_tiles", "extract_latents", "fit_prior"} & set(counts)
    assert counts["generate"] == 2  # option_a and option_c use SR; immediate and option_b do not


@pytest.mark.slow
@SHARES_ALL_RUN
def test_a_new_ae_size_builds_a_branch_beside_the_old_one(finished_all, tmp_path):
    counts = plan(["immediate"], finished_all, with_change(tmp_path, "i128", {"options.immediate.ae_size": 128}))
    assert counts.get("train_ae") == 1 and "build_dataset" not in counts
    assert (finished_all / "results" / "ae" / "vit-s64" / "model.pt").exists()


@pytest.mark.slow
@SHARES_ALL_RUN
def test_a_scene_setting_redraws_the_scene_options_only(finished_all, tmp_path):
    counts = plan(["all"], finished_all, with_change(tmp_path, "scene", {"scene.max_piece": 0.5}))
    assert counts.get("generate") == 4 and not {"train_ae", "fit_scene_model", "train_sr"} & set(counts), counts  # t, a, b, c
