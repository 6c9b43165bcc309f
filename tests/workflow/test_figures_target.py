"""`snakemake figures`: the README's overview figure from a finished run, opt-in (not part of `all`)."""
import numpy as np
import pytest
from PIL import Image
from workflow_helpers import SHARES_ALL_RUN, TEST_CONFIGS, plan, run


def test_figures_needs_the_detail_samples_and_the_main_jobs_sr_net_only(tmp_path):
    counts = plan(["figures"], tmp_path, TEST_CONFIGS)
    assert counts["overview_figure"] == 1 and counts["generate"] == 1  # option_t's samples
    assert counts["train_sr"] == 1 and "benchmark_table" not in counts and "upscale_pyramid" not in counts


def test_all_does_not_rewrite_the_tracked_figure(tmp_path):
    assert "overview_figure" not in plan(["all"], tmp_path, TEST_CONFIGS)


@pytest.mark.slow
@SHARES_ALL_RUN
def test_figures_on_a_finished_run_draws_only_the_figure(finished_copy):
    proc = run(["figures"], finished_copy, TEST_CONFIGS)
    text = proc.stdout + proc.stderr
    assert "rule overview_figure:" in text and "rule generate:" not in text
    with Image.open(finished_copy / "docs" / "figures" / "overview.png") as im:
        figure = np.asarray(im.convert("RGB"))
    assert figure.shape[1] > figure.shape[0] and figure.std() > 10  # four panels side by side, not blank
