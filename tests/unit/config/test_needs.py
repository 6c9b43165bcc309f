"""Which sizes and splits each target needs (rockzoom.config.needs)."""
from rockzoom.config import load_config, size_needs, split_needs, target_needs


def test_default_targets_need_their_sizes():
    cfg = load_config()
    assert target_needs(cfg, "option_a") == {256: {"train", "val", "test"}, 1024: {"test"}}
    assert target_needs(cfg, "option_c") == {512: {"train", "val", "test"}, 2048: {"test"}}
    assert target_needs(cfg, "option_b") == {512: {"train", "val", "test"}}  # scale 1: no ground truth of its own
    bench = target_needs(cfg, "benchmark")
    assert bench[1024] == {"test"} and bench[2048] == {"test"} and bench[512] == {"train", "val", "test"}
    assert size_needs(cfg)[2048]["test"] == ["benchmark", "datasets", "option_c"]


def test_a_size_missing_from_dataset_sizes_is_not_a_ground_truth_need():
    cfg = load_config()
    cfg["dataset"]["sizes"] = [256, 512, 1024]
    assert 2048 not in size_needs(cfg)


def test_split_needs_leave_out_target_names():
    cfg = load_config()
    before = split_needs(cfg)
    assert before[2048] == ["test"] and before[256] == ["test", "train", "val"]
    cfg["options"]["option_z"] = dict(cfg["options"]["option_a"])  # same sizes under another name
    assert split_needs(cfg) == before and "option_z" in size_needs(cfg)[256]["train"]
