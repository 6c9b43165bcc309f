"""rockzoom.config: loading, layering, defaults, resolvers, errors; the resolved configs pinned to a645119's."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

import rockzoom.config as rc
from rockzoom.config import ConfigError, load_config

REPO = Path(__file__).resolve().parents[3]
CONFIGS = {"default": [], "test": [REPO / "config/test.yaml"], "gpu": [REPO / "config/gpu.yaml"]}
STAGES = ["sr.train", "sr.gan.train", "ae.archs.vit", "ae_variants.multiscale.multiscale", "refiner.train"]
# the full config files at a645119 (before engine_defaults and the overlays), merged and default-filled by Snakemake
HEAD = json.loads((REPO / "tests/data/config_resolved_a645119.json").read_text())


ADDED_OPTIONS = ("option_t",)


def _get(d, dotted):
    for k in dotted.split("."):
        d = d[k]
    return d


def refine_options_a645119(cfg: dict) -> list[str]:
    """refiner.refine_options of a645119: option_a, and option_c with gpu.yaml."""
    return ["option_a", "option_c"] if cfg["refiner"]["train"]["engine"]["steps"] == 50000 else ["option_a"]


def effective(cfg: dict) -> dict:
    """The config in a645119's layout: each stage's engine resolved, sr_model written as sr_net/sr_hr."""
    out = copy.deepcopy(cfg)
    for st in STAGES:
        _get(out, st)["engine"] = rc.engine(cfg, st)
    out.pop("engine_defaults")
    out["tiles"].pop("source")  # added since a645119: GeoTIFF orthomosaics as the tile source
    for sec in ("sr", "ae", "ae_variants", "refiner"):
        out[sec].pop("threads")
    # added since a645119: the detail stage (option_t, detail), the realism figures (realism, benchmark.realism)
    out["options"] = {n: rc.option(cfg, n).to_param() for n in cfg["options"] if n not in ADDED_OPTIONS}
    for opt in out["options"].values():  # changed since a645119: option_a runs the detail stage (realism table)
        opt.pop("detail", None)
        opt.pop("sr_kind", None)  # changed since a645119 (issue 29): the SR options use the perceptual fine-tune
        opt.pop("start", None)  # changed since a645119 (issue 28): options a-c start from the scene generator
        if opt.get("sr_net") == "rlfn_native":  # changed since a645119 (issue 29): rlfn trained on native-soft LR
            opt["sr_net"] = "rlfn"
    for key in ("detail", "realism", "scene"):  # added since a645119: the scene generator (issue 28)
        out.pop(key)
    out["prior"].pop("min_valid")  # added since a645119: the prior leaves partial tiles' latents out
    out["sr"]["train"].pop("lr_source")  # added since a645119: the SR LR kind and the eval's LR kinds
    out["sr"]["train"].pop("lr_blur")  # added since a645119 (issue 29): the native softness of the training LR
    out["sr"]["train"].pop("lr_noise")
    out["sr"]["train"].pop("lr_jpeg")  # added since a645119 (issue 29): the native tiles' JPEG blocks
    out["sr"]["nets"].pop("rlfn_native")  # ... and the net trained with it, which the generating options name
    if out["sr"]["train"]["engine"]["steps"] == 1450:  # changed since a645119: the SR budget chosen from the curve
        out["sr"]["train"]["engine"].update(steps=600, val_every=150)
    for key in ("lr_sources", "self_ensemble", "perceptual_nets"):
        out["sr"]["eval"].pop(key)
    if out["refiner"]["refine_options"] == ["immediate"]:  # changed since a645119: the refiner refines only what it
        out["refiner"]["refine_options"] = refine_options_a645119(cfg)  # was trained after (issue 29)
    refiner_engine = out["refiner"]["train"]["engine"]
    if refiner_engine["steps"] == 6000:  # changed since a645119: the refiner trains 10 min, not 90 s (issue 29)
        refiner_engine.update(steps=600, val_every=100, save_every=50)
    out["sr"].pop("perceptual")  # added since a645119 (issue 29): the perceptual fine-tune
    out["sr"].pop("exemplar")  # added since a645119 (issue 29): exemplar detail
    out["generate"].pop("self_ensemble")
    rlfn = out["sr"]["nets"]["rlfn"]
    if rlfn.get("n_feats") == 48 and rlfn.get("attention") is False:  # changed since a645119: gpu.yaml's rlfn
        rlfn["attention"] = True  # without SPAN attention (it stalled at +0.42 dB on an H200, docs/superres.md)
    if out["split"]["block_zoom"] == "auto":  # changed since a645119: the split is auto-fitted (was 20)
        out["split"]["block_zoom"] = 20
    out["pyramid"] = rc.pyramid_param(cfg)
    if out["pyramid"].get("sr_net") == "rlfn_native":  # changed since a645119 (issue 29), as the options
        out["pyramid"]["sr_net"] = "rlfn"
    # added since a645119 (issue 14, survey scale): demo chunks, the dataset cap, pyramid shards and batches
    out["demo"].pop("chunk_tiles")
    out["dataset"].pop("max_samples")
    for key in ("shard_tiles", "batch_size", "self_ensemble", "back_project", "sr_kind"):
        out["pyramid"].pop(key, None)
    b = out["benchmark"]
    b.pop("realism")
    b.pop("perceptual")  # added since a645119 (issue 29): the perceptual row
    b.pop("scene_sizes")  # added since a645119 (issue 28): the scene generator's rows
    b.pop("scene_cuts")
    m = b.pop("sr_model")
    out["benchmark"] = {**b, "sr_net": m["net"], "sr_hr": m["hr"]}
    return out


@pytest.mark.parametrize("name", CONFIGS)
def test_resolved_configs_equal_the_full_files_of_a645119(name):
    assert effective(load_config(*CONFIGS[name])) == HEAD[name]


def test_resolved_engine_of_each_stage_is_pinned():
    cfg = load_config()
    common = dict(grad_clip=1.0, bf16=True, device="auto")
    assert rc.engine(cfg, "sr.train") == dict(steps=1450, batch_size=16, lr=0.001, weight_decay=0.0, warmup_steps=20,
                                              min_lr_ratio=0.05, ema_decay=0.99, val_every=290, save_every=50,
                                              log_every=25, **common)
    assert rc.engine(cfg, "sr.gan.train") == dict(steps=60, batch_size=8, lr=0.0001, weight_decay=0.0, warmup_steps=0,
                                                  min_lr_ratio=1.0, ema_decay=0.0, val_every=20, save_every=20,
                                                  log_every=10, **common)
    vit = dict(steps=300, batch_size=8, lr=0.001, weight_decay=0.05, warmup_steps=20, min_lr_ratio=0.1,
               ema_decay=0.99, val_every=50, save_every=25, log_every=25, **common)
    assert rc.engine(cfg, "ae.archs.vit") == vit
    assert rc.engine(cfg, "ae_variants.multiscale.multiscale") == vit
    assert rc.engine(cfg, "refiner.train") == dict(steps=6000, batch_size=8, lr=0.0005, weight_decay=0.0,
                                                   warmup_steps=50, min_lr_ratio=0.1, ema_decay=0.995, val_every=1000,
                                                   save_every=200, log_every=25, **common)


def test_engine_config_defaults_are_the_engine_defaults_block():
    from rockzoom.engine import EngineConfig

    eng = EngineConfig.from_dict({"steps": 5, "batch_size": 2, "lr": 0.1})
    for key, value in rc.engine_defaults().items():
        if key not in ("steps", "batch_size", "lr"):
            assert getattr(eng, key) == value, key
    assert rc.engine_defaults() == load_config()["engine_defaults"]


def test_layering_is_a_recursive_merge_later_wins(tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("sr: {train: {engine: {steps: 5, lr: 0.5}}}\n")
    b.write_text("sr: {train: {engine: {steps: 7}}}\nsample: {samplers: [gmm]}\n")
    cfg = load_config(a, b)
    assert rc.engine(cfg, "sr.train")["steps"] == 7 and rc.engine(cfg, "sr.train")["lr"] == 0.5
    assert rc.engine(cfg, "sr.train")["batch_size"] == 16  # from config.yaml's sr.train override
    assert cfg["sample"]["samplers"] == ["gmm"]  # lists are replaced, not merged
    assert rc.merge({"x": {"y": 1, "z": [1]}}, {"x": {"z": [2]}}) == {"x": {"y": 1, "z": [2]}}


def test_schema_defaults_are_filled(tmp_path):
    cfg = rc.merge(rc.read_yaml(rc.DEFAULTS_PATH), {})
    del cfg["demo"], cfg["tiles"]["scheme"], cfg["refiner"]["sample"]
    rc.validate(cfg)
    assert cfg["demo"] == {"tiles_x": 32, "tiles_y": 24} and cfg["tiles"]["scheme"] == "auto"
    assert cfg["refiner"]["sample"]["steps"] == 8


def test_engine_defaults_reach_every_stage(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("engine_defaults: {log_every: 7, ema_decay: 0.5}\n")
    cfg = load_config(p)
    assert {rc.engine(cfg, st)["log_every"] for st in STAGES} == {7, 10}  # gan sets its own log_every
    assert rc.engine(cfg, "ae.archs.vit")["ema_decay"] == 0.5 and rc.engine(cfg, "refiner.train")["ema_decay"] == 0.995


@pytest.mark.parametrize("change, key", [
    ({"sr": {"nets": {"edsr": {"arch": "edsr", "attention": True}}}}, "attention"),
    ({"sr": {"nets": {"rlfn": {"arch": "rlfn", "n_resblocks": 3}}}}, "n_resblocks"),
    ({"sr": {"nets": {"rlfn": {"arch": "rlfn", "scale": 4}}}}, "scale"),
    ({"options": {"x": {"ae_size": 256, "upscale": "sr", "scale": 4}}}, "sr_model"),
    ({"pyramid": {"sr_model": None}}, "sr_model"),
    ({"options": {"x": {"ae_size": 256, "upscale": "sr", "scale": 4, "sr_model": {"net": "nope", "hr": 256}}}},
     "options.x.sr_model.net"),
    ({"sr": {"train": {"engine": {"stepz": 3}}}}, "stepz"),
    ({"engine_defaults": {"ema_decay": 1.5}}, "engine_defaults.ema_decay"),
    ({"ae_variants": {"progressive": {"progressive": {"steps": [1, 2]}}}}, "ae_variants.progressive.progressive.steps"),
    ({"split": {"block_zoom": 23}}, "dataset.sizes"),
    ({"realism": {"judges": {"controls": ["blur", "ghosts"]}}}, "realism.judges.controls"),
    ({"detail": {"banks": {"levels": 14}}}, "detail.banks"),  # 256 px * 0.75^13 = 6 px < a 5 px patch + margins
])
def test_bad_config_names_the_key(tmp_path, change, key):
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump(change))
    with pytest.raises(ConfigError) as e:
        load_config(p)
    assert key in str(e.value) and "\n" not in str(e.value)


def test_check_tile_dir(tmp_path):
    cfg = load_config(overrides={"tiles": {"dir": str(tmp_path)}})
    with pytest.raises(ConfigError, match="tiles.dir"):
        rc.check_tile_dir(cfg)
    (tmp_path / "23").mkdir()
    rc.check_tile_dir(cfg)
    (tmp_path / "ortho.tif").write_bytes(b"")  # a file is a GeoTIFF source, checked when indexed
    rc.check_tile_dir(load_config(overrides={"tiles": {"dir": str(tmp_path / "ortho.tif")}}))
    with pytest.raises(ConfigError, match="tiles.dir"):
        rc.check_tile_dir(load_config(overrides={"tiles": {"dir": str(tmp_path / "ortho.tif"), "source": "tree"}}))


PERCEPTUAL = {"options": {"option_a": {"sr_model": {"net": "rlfn", "kind": "perceptual"}}},
              "pyramid": {"sr_model": {"net": "rlfn", "kind": "perceptual"}}}


def test_generating_options_use_the_net_trained_on_native_soft_lr():
    cfg = load_config()
    for ref in (rc.option(cfg, "option_a").sr_model, rc.option(cfg, "option_c").sr_model, rc.pyramid_upscaler(cfg)):
        assert ref.net == "rlfn_native"
    assert cfg["benchmark"]["sr_model"]["net"] == "rlfn"  # the measured rows: LR = the tree's coarser zoom
    assert rc.sr_net(cfg, "rlfn_native") == rc.sr_net(cfg, "rlfn")  # the same architecture ...
    assert rc.sr_train_settings(cfg, "rlfn_native") == {**rc.sr_train_settings(cfg, "rlfn"), "lr_blur": "auto",
                                                         "lr_noise": 2}
    assert rc.sr_train_settings(cfg, "rlfn")["lr_blur"] == 0.0  # ... trained on other LR
    with pytest.raises(ConfigError, match="sr.nets"):
        rc.sr_train_settings(cfg, "nope")
    with pytest.raises(ConfigError, match="lr_blur"):
        load_config(overrides={"sr": {"nets": {"rlfn_native": {"train": {"lr_blur": "sharp"}}}}})


def test_refine_options_are_checked_before_any_job():
    """Only an option a refiner is trained after: classical or kind psnr (the exemplar's drawn detail it never saw)."""
    assert load_config()["refiner"]["refine_options"] == ["immediate"]
    with pytest.raises(ConfigError, match="refine_options: option 'option_a' upscales with sr_model kind 'exemplar'"):
        load_config(overrides={"refiner": {"refine_options": ["option_a"]}})
    with pytest.raises(ConfigError, match="refine_options: option 'option_b' does not upscale"):
        load_config(overrides={"refiner": {"refine_options": ["option_b"]}})
    psnr_a = {"options": {"option_a": {"sr_model": {"kind": "psnr"}}}, "refiner": {"refine_options": ["option_a"]}}
    assert load_config(overrides=psnr_a)["refiner"]["refine_options"] == ["option_a"]


def test_sr_model_ref_and_options():
    # the generating options and the pyramid default to exemplar detail (judged best, docs/superres.md)
    assert rc.option(load_config(), "option_a").sr_model.kind == "exemplar"
    assert rc.option(load_config(), "option_c").sr_model.kind == "exemplar"
    assert rc.pyramid_upscaler(load_config()).kind == "exemplar"
    assert load_config()["sr"]["exemplar"]["detail"] == "blocks"
    cfg = load_config(overrides=PERCEPTUAL)
    ref = rc.option(cfg, "option_a").sr_model
    assert ref == rc.SrModelRef("rlfn", 4, 256, kind="perceptual")
    assert ref.path == "results/sr_perceptual/rlfn-x4-h256/model.pt"
    assert ref.wildcards == {"net": "rlfn", "k": "4", "H": "256"}
    assert ref.train_runtimes() == ["results/runtime/train_sr/rlfn-x4-h256.tsv",
                                    "results/runtime/finetune_sr_perceptual/rlfn-x4-h256.tsv"]
    psnr = ref.with_kind("psnr")
    assert psnr.path == "results/sr/rlfn-x4-h256/model.pt" and psnr.train_runtimes() == ref.train_runtimes()[:1]
    assert ref.with_gan().path == "results/sr_gan/rlfn-x4-h256/model.pt"
    assert rc.SrModelRef.from_config(cfg["benchmark"]["sr_model"], 4) == psnr  # the measured rows: psnr
    with pytest.raises(ConfigError, match="kind"):
        rc.SrModelRef("rlfn", 4, 256, kind="nope")
    exemplar = ref.with_kind("exemplar")
    assert exemplar.path == "results/sr_exemplar/rlfn-x4-h256/model.pt"
    assert exemplar.train_runtimes() == ["results/runtime/train_sr/rlfn-x4-h256.tsv",
                                         "results/runtime/build_sr_exemplar/rlfn-x4-h256.tsv"]
    assert rc.option(cfg, "immediate").upscaler == rc.Classical("lanczos")
    assert rc.option(cfg, "option_b").upscaler is None
    assert rc.option(cfg, "option_a").to_param() == {"ae_size": 256, "upscale": "sr", "scale": 4, "sr_net": "rlfn",
                                                     "sr_hr": 256, "sr_kind": "perceptual", "start": "scene"}
    assert "detail" not in rc.option(cfg, "immediate").to_param()  # off: left out, so old runs are not stale
    assert "start" not in rc.option(cfg, "immediate").to_param()  # the AE start: left out the same way
    assert "back_project" not in rc.option(cfg, "option_a").to_param() and not rc.option(cfg, "option_a").back_project
    bp = load_config(overrides={"options": {"option_a": {"back_project": True}}})
    assert rc.option(bp, "option_a").back_project and rc.option(bp, "option_a").to_param()["back_project"] is True
    psnr_a = load_config(overrides={"options": {"option_a": {"sr_model": {"kind": "psnr"}}}})
    assert "sr_kind" not in rc.option(psnr_a, "option_a").to_param()  # the params psnr options always had
    assert rc.pyramid_upscaler(cfg) == ref and rc.pyramid_out_zoom(cfg) == 25
    assert rc.pyramid_param(cfg)["sr_kind"] == "perceptual" and rc.pyramid_param(cfg)["back_project"] is False
    assert rc.refiner_upscaler(cfg, "bicubic", 4, 256) == rc.Classical("bicubic")
    assert rc.refiner_upscaler(cfg, "rlfn", 4, 256) == psnr
    with pytest.raises(ConfigError, match="sr.nets"):
        rc.refiner_upscaler(cfg, "nope", 4, 256)
    with pytest.raises(ConfigError, match="refine_options: option 'option_a' upscales with sr_model kind 'perceptual'"):
        rc.refiner_for_option(cfg, "option_a")  # the refiner never saw the fine-tune's drawn detail
    assert rc.refiner_for_option(psnr_a, "option_a") == "results/refiner/rlfn_native-x4-h256/model.pt"
    assert rc.refiner_for_option(cfg, "immediate") == "results/refiner/lanczos-x4-h256/model.pt"
    with pytest.raises(ConfigError, match="nothing to refine"):
        rc.refiner_for_option(cfg, "option_b")
    with pytest.raises(ConfigError, match="no option"):
        rc.option(cfg, "nope")


def test_benchmark_rows_are_typed_and_serialise_as_upscaler_keywords():
    cfg = load_config(REPO / "config/test.yaml", overrides=PERCEPTUAL)
    rows = rc.benchmark_rows(cfg)
    by_name = {r.name: r for r in rows}
    assert by_name["Bicubic"].upscale == rc.Classical("bicubic")
    assert by_name["learned SR (rlfn)"].upscale == rc.SrModelRef("rlfn", 4, 256)
    assert by_name["GAN SR (rlfn+gan)"].upscale.gan
    perceptual = by_name["perceptual SR (rlfn+perceptual)"]
    assert perceptual.upscale == rc.SrModelRef("rlfn", 4, 256, kind="perceptual")
    assert perceptual.to_param()["upscale"] == {"checkpoint": "results/sr_perceptual/rlfn-x4-h256/model.pt"}
    assert perceptual.train_benchmarks[-1] == "results/runtime/finetune_sr_perceptual/rlfn-x4-h256.tsv"
    assert "results/sr_perceptual/rlfn-x4-h256/model.pt" in perceptual.inputs()
    assert not [r for r in rows if r.name.startswith("option_a")]  # a scene start reconstructs nothing
    ae_start = {"options": {"option_a": {"sr_model": {"kind": "perceptual"}, "start": "ae"}}}
    option_a = next(r for r in rc.benchmark_rows(load_config(REPO / "config/test.yaml", overrides=ae_start))
                    if r.name.startswith("option_a"))
    assert option_a.upscale.kind == "perceptual"
    assert option_a.train_benchmarks[-1] == "results/runtime/finetune_sr_perceptual/rlfn_native-x4-h256.tsv"
    realism = {r.name: r for r in rc.realism_upscaler_rows(cfg)}
    assert realism["perceptual SR (rlfn+perceptual)"].upscale.kind == "perceptual"
    assert by_name["SR + refine (2 steps)"].refine.model == "results/refiner/rlfn-x4-h256/model.pt"
    assert by_name["native 64 AE"].upscale is None and by_name["native 64 AE"].ae == "results/ae/vit-s64/model.pt"
    params = [r.to_param() for r in rows]
    assert params[0] == {"name": "Bicubic", "data_dir": "results/data/s256", "scale": 4,
                         "upscale": {"method": "bicubic"}}
    assert params[2]["upscale"] == {"checkpoint": "results/sr/rlfn-x4-h256/model.pt"}
    assert "results/sr/rlfn-x4-h256/model.pt" in by_name["learned SR (rlfn)"].inputs()
    assert "results/runtime/train_refiner/rlfn-x4-h256.tsv" in by_name["SR + refine (2 steps)"].inputs()
    # gpu: the AE variant rows join the table
    names = [r.name for r in rc.benchmark_rows(load_config(REPO / "config/gpu.yaml"))]
    assert any(n.startswith("progressive") for n in names) and any(n.startswith("multi-scale") for n in names)


def test_progressive_stages_and_variant_rows():
    cfg = load_config()
    first, last = rc.progressive_stage(cfg, "progressive", 128), rc.progressive_stage(cfg, "progressive", 512)
    vit = rc.ae_arch(cfg, "vit")
    assert first["fade_images"] == 0 and last["fade_images"] == 400 and last["size"] == 512
    assert last["engine"] == {**vit["engine"], "steps": 100} and last["model"] == vit["model"]
    assert rc.progressive_stage_data_size(cfg, "progressive", 128) == 512
    with pytest.raises(ConfigError, match="not a stage size"):
        rc.progressive_stage(cfg, "progressive", 64)
    rows = rc.ae_variant_rows(cfg, 512)
    assert [r["images_seen"] for r in rows] == [2400, 2400, 2400]
    assert rows[1]["train_benchmarks"] == rc.progressive_runtimes(cfg, "progressive")


def test_threads_default_to_half_the_cores():
    cfg = load_config()
    assert rc.threads(cfg, "sr", 2) == 1 and rc.threads(cfg, "ae", 8) == 4 and rc.threads(cfg, "refiner", 1) == 1
    assert rc.threads(load_config(overrides={"sr": {"threads": 2}}), "sr", 2) == 2


def test_schema_choices_are_the_library_constants():
    from rockzoom.autoencoder.sampling import SAMPLERS
    from rockzoom.data.split import STRATIFY
    from rockzoom.metrics.controls import CONTROLS
    from rockzoom.superres.upscale import CLASSICAL_METHODS

    props = rc.schema()["properties"]
    assert props["realism"]["properties"]["judges"]["properties"]["controls"]["items"]["enum"] == list(CONTROLS)
    assert props["sample"]["properties"]["samplers"]["items"]["enum"] == list(SAMPLERS)
    assert props["generate"]["properties"]["sampler"]["enum"] == list(SAMPLERS)
    assert props["split"]["properties"]["stratify"]["enum"] == list(STRATIFY)
    assert set(rc.CLASSICAL) == set(CLASSICAL_METHODS)


def test_config_yaml_is_the_packaged_defaults():
    assert (REPO / "config/config.yaml").resolve() == rc.DEFAULTS_PATH


# ------------------------------------------------------------------------------------------------ the CLI path
def test_partial_config_resolves_the_same_in_the_cli_and_in_snakemake(tmp_path, monkeypatch):
    """`rockzoom train-sr --config partial.yaml` and `snakemake --configfile partial.yaml` get the same settings."""
    from snakemake.utils import update_config

    import rockzoom.superres.train as train_sr_module  # the verb imports it when it runs
    from rockzoom.cli import main

    partial = tmp_path / "partial.yaml"
    partial.write_text("sr: {train: {engine: {steps: 5}}}\n")
    seen = {}
    monkeypatch.setattr(train_sr_module, "train_sr", lambda data_dir, **kw: seen.update(kw))
    assert main(["train-sr", "--data-dir", "d", "--model-out", str(tmp_path / "m/model.pt"), "--net", "rlfn",
                 "--config", str(partial)]) == 0
    # Snakemake's path: config/config.yaml, then the --configfile, Snakemake's own merge and validate, the rule's params
    from snakemake.utils import validate
    snake = yaml.safe_load((REPO / "config/config.yaml").read_text())
    update_config(snake, yaml.safe_load(partial.read_text()))
    validate(snake, str(rc.SCHEMA_PATH))
    assert seen["train_cfg"] == rc.stage_settings(snake, "sr.train") and seen["train_cfg"]["engine"]["steps"] == 5
    assert seen["train_cfg"]["engine"]["batch_size"] == 16
    assert seen["net"] == rc.sr_net(snake, "rlfn") and seen["seed"] == snake["seed"]


def test_cli_bad_config_is_one_line_exit_2(tmp_path, capsys):
    from rockzoom.cli import main

    bad = tmp_path / "bad.yaml"
    bad.write_text("sr: {nets: {rlfn: {arch: rlfn, n_resblocks: 3}}}\n")
    assert main(["train-sr", "--data-dir", "d", "--model-out", "m.pt", "--net", "rlfn", "--config", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert "n_resblocks" in err and "sr.nets.rlfn" in err and "\n" not in err and "Traceback" not in err
