"""Which sample sizes, and which of their splits, each named target needs: a model trained on size S needs S's train
and val splits, an evaluation at S its test split. The auto-fitted split (rockzoom.data.fit) chooses the block zoom
from these, and names the targets a size it cannot support affects."""
from __future__ import annotations

from rockzoom.config.resolve import (
    SrModelRef,
    option,
    progressive_chain,
    progressive_names,
    pyramid_layer_names,
    pyramid_layer_upscaler,
    pyramid_upscaler,
)

TRAIN = ("train", "val")  # a model trained on the size: training samples and model selection
TEST = ("test",)  # judged on the size's held-out samples
ALL = ("train", "val", "test")  # trained on it and judged on it (AE: evaluation, test latents)

TARGETS = ("datasets", "benchmark", "pyramid", "superres", "ae_variants", "refiner")  # beside the options


def target_needs(cfg: dict, target: str) -> dict[int, set[str]]:
    """{size: splits} that `snakemake <target>` needs non-empty."""
    needs: dict[int, set[str]] = {}

    def add(size, splits):
        needs.setdefault(int(size), set()).update(splits)

    def merge(other):
        for s, splits in other.items():
            add(s, splits)

    if target in cfg.get("options", {}):
        opt = option(cfg, target)
        add(opt.ae_size, ALL)
        if opt.sr_model is not None:
            add(opt.sr_model.hr, TRAIN)
        if opt.scale > 1 and opt.output_size in cfg["dataset"]["sizes"]:
            add(opt.output_size, TEST)  # the realism figures against real tiles of the output size
    elif target == "datasets":
        for s in cfg["dataset"]["sizes"]:
            add(s, TEST)
    elif target == "benchmark":
        b = cfg["benchmark"]
        sr = SrModelRef.from_config(b["sr_model"], b["scale"])
        if b["hr_size"] in cfg["dataset"]["sizes"]:
            add(b["hr_size"], TEST)
            add(sr.hr, TRAIN)
        for s in b["ae_sizes"]:
            add(s, ALL)
        if b["ae_variants"]:
            merge(target_needs(cfg, "ae_variants"))
        for name in b["pipelines"]:
            opt = option(cfg, name)
            if opt.scale > 1 and opt.output_size in cfg["dataset"]["sizes"]:
                merge(target_needs(cfg, name))
        if b.get("realism"):
            add(sr.hr, ALL)  # upscalers on real inputs of the SR net's own HR size
    elif target == "pyramid":
        for up in [pyramid_upscaler(cfg)] + [pyramid_layer_upscaler(cfg, n) for n in pyramid_layer_names(cfg)]:
            if isinstance(up, SrModelRef):
                add(up.hr, TRAIN)
    elif target == "superres":
        for h in cfg["sr"]["eval"]["hr_sizes"]:
            add(h, ALL)
    elif target == "ae_variants":
        v = cfg.get("ae_variants", {})
        if "size" in v:
            add(v["size"], ALL)
            for name in progressive_names(cfg):
                chain = progressive_chain(cfg, name)
                for s in (chain["sizes"][-1:] if chain["stage_data"] == "downsampled" else chain["sizes"]):
                    add(s, TRAIN)
    elif target == "refiner":
        r = cfg.get("refiner", {})
        if "hr_size" in r:
            add(r["hr_size"], TRAIN)
        for name in r.get("refine_options", []):
            merge(target_needs(cfg, name))
    return needs


def all_target_needs(cfg: dict, targets: list[str] | None = None) -> dict[str, dict[int, list[str]]]:
    """{target: {size: [splits]}} for `targets` (default: every option and named target)."""
    targets = targets if targets is not None else [*cfg.get("options", {}), *TARGETS]
    return {t: {s: sorted(v) for s, v in sorted(target_needs(cfg, t).items())} for t in targets}


def by_size(per_target: dict[str, dict[int, list[str]]]) -> dict[int, dict[str, list[str]]]:
    """{size: {split: [targets needing it]}} from all_target_needs' form."""
    out: dict[int, dict[str, list[str]]] = {}
    for t, needs in per_target.items():
        for size, splits in needs.items():
            for split in splits:
                out.setdefault(int(size), {}).setdefault(split, []).append(t)
    return {s: {k: sorted(v) for k, v in sorted(d.items())} for s, d in sorted(out.items())}


def size_needs(cfg: dict, targets: list[str] | None = None) -> dict[int, dict[str, list[str]]]:
    """{size: {split: [targets needing it]}} over `targets` (default: every option and named target)."""
    return by_size(all_target_needs(cfg, targets))


def split_needs(cfg: dict) -> dict[int, list[str]]:
    """{size: [splits]} that some target needs: what the split depends on (split_blocks' params). Target names are
    left out so that renaming or adding a target with the same needs does not rerun the split and all after it."""
    return {s: sorted(d) for s, d in size_needs(cfg).items()}
