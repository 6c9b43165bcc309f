"""The refiner in the workflow: planned after SR and generation, trained, and refining generated samples."""
import json

import pytest
from PIL import Image
from workflow_helpers import SHARES_ALL_RUN


def test_workflow_plans_the_refiner_after_sr_and_generation(tmp_path):
    from workflow_helpers import REPO, plan

    configs = [REPO / "config" / "config.yaml", REPO / "config" / "test.yaml"]
    jobs = plan(["refiner"], tmp_path, configs)
    # the default refiner (after rlfn) and the refined option's (immediate: after Lanczos), one refiner each; options
    # a/c upscale with the exemplar, whose drawn detail no refiner learned after: not refined by default
    assert jobs["train_refiner"] == 2 and jobs["refine"] == 1 and jobs["train_sr"] == 1 and jobs["generate"] == 1
    assert jobs["train_ae"] == 1  # immediate starts from AE samples
    classical = plan(["results/refiner/bicubic-x4-h256/model.pt"], tmp_path, configs)
    assert classical.get("train_refiner") == 1 and "train_sr" not in classical


@pytest.mark.slow
@SHARES_ALL_RUN
def test_workflow_trains_the_refiner_and_refines_generated_samples(finished_copy):
    from workflow_helpers import TEST_CONFIGS, run

    tmp_path = finished_copy  # `all` trained the refiner for its benchmark rows; `refiner` adds the refined option
    run(["refiner"], tmp_path, TEST_CONFIGS, timeout=1500)
    assert (tmp_path / "results" / "refiner" / "rlfn-x4-h256" / "model.pt").exists()
    refined = sorted((tmp_path / "results" / "refined" / "immediate" / "samples").glob("*.png"))
    generated = sorted((tmp_path / "results" / "generated" / "immediate" / "samples").glob("*.png"))
    assert [p.name for p in refined] == [p.name for p in generated] and refined
    with Image.open(refined[0]) as a, Image.open(generated[0]) as b:
        assert a.size == b.size
    prov = json.loads((tmp_path / "results" / "refined" / "immediate" / "provenance.json").read_text())
    assert prov["steps"] == 2 and len(prov["refiner"]["sha256"]) == 64
