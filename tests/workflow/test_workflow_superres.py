import pytest
import yaml
from workflow_helpers import REPO, plan

# the default config under the tiny test config: every section complete, sizes tiny
BASE = [REPO / "config" / "config.yaml", REPO / "config" / "test.yaml"]


def test_superres_target_plans_train_gan_perceptual_and_eval(tmp_path):
    counts = plan(["superres"], tmp_path, BASE)
    assert counts["train_sr"] == 1 and counts["finetune_sr_gan"] == 1 and counts["eval_sr"] == 1
    assert counts["finetune_sr_perceptual"] == 1


def test_options_and_pyramid_name_either_kind(tmp_path):
    counts = plan(["option_a", "pyramid"], tmp_path, BASE)  # both default to exemplar detail on the PSNR net
    assert counts["train_sr"] == 1 and counts["build_sr_exemplar"] == 1 and "finetune_sr_perceptual" not in counts
    override = tmp_path / "perceptual.yaml"
    override.write_text(yaml.safe_dump({"options": {"option_a": {"sr_model": {"kind": "perceptual"}}},
                                        "pyramid": {"sr_model": {"kind": "perceptual"}}}))
    counts = plan(["option_a", "pyramid"], tmp_path, [*BASE, override])
    assert counts["train_sr"] == 1 and counts["finetune_sr_perceptual"] == 1
    override.write_text(yaml.safe_dump({"options": {"option_a": {"sr_model": {"kind": "psnr"}}},
                                        "pyramid": {"sr_model": {"kind": "psnr"}}}))
    counts = plan(["option_a", "pyramid"], tmp_path, [*BASE, override])
    assert counts["train_sr"] == 1 and "build_sr_exemplar" not in counts and "finetune_sr_perceptual" not in counts


def test_each_eval_scale_and_net_is_its_own_branch(tmp_path):
    override = tmp_path / "more.yaml"
    override.write_text(yaml.safe_dump({"sr": {"eval": {"scales": [2, 4], "hr_sizes": [256],
                                                         "nets": ["rlfn", "edsr"], "gan_nets": []}}}))
    counts = plan(["superres"], tmp_path, [*BASE, override])
    assert counts["train_sr"] == 4 and counts["eval_sr"] == 2 and "finetune_sr_gan" not in counts


def test_unknown_net_fails_naming_the_key(tmp_path):
    override = tmp_path / "bad.yaml"
    override.write_text(yaml.safe_dump({"sr": {"eval": {"nets": ["srgan"], "gan_nets": []}}}))
    with pytest.raises(Exception, match="sr.nets"):
        plan(["superres"], tmp_path, [*BASE, override])
