# Small getters between the config and the rules; included first. The config layer (loading, defaults, stage
# settings, benchmark rows, progressive stages, paths) lives in the library: rockzoom.config.

import rockzoom.config as rc
from rockzoom.autoencoder import SAMPLERS
from rockzoom.config import paths
from rockzoom.texture import BANK_FORMAT
from rockzoom.generation.memory import generate_mem_mb
from rockzoom.texture.memory import banks_mem_mb, detail_mem_mb
from rockzoom.scene import MODEL_FORMAT as SCENE_MODEL_FORMAT
from rockzoom.scene.settings import scene_memory_mb
from rockzoom.superres.exemplar import exemplar_mem_mb


wildcard_constraints:
    S=r"\d+",
    k=r"\d+",
    H=r"\d+",
    net=r"[A-Za-z0-9_]+",
    arch=r"[A-Za-z0-9_]+",
    option=r"[A-Za-z0-9_]+",
    sampler="|".join(SAMPLERS),


# ---------------------------------------------------------------------------------------------- data
def tile_dir():
    """The tile tree to index: the configured one, or the generated demo pyramid."""
    return config["tiles"]["dir"] or paths.DEMO_TILES


def demo_tiles_input(wildcards):
    return [] if config["tiles"]["dir"] else [paths.DEMO_TILES]


def all_datasets():
    return [paths.dataset_summary(s) for s in config["dataset"]["sizes"]]


def train_threads(section):
    """Cores of a training job of a config section (its `threads` key; null = half of --cores, at least 1)."""
    return rc.threads(config, section, workflow.cores)


# ---------------------------------------------------------------------------------------------- super-resolution
def sr_eval_models(wildcards):
    ev = config["sr"]["eval"]
    return (
        [paths.sr_model(n, wildcards.k, wildcards.H) for n in ev["nets"]]
        + [paths.sr_model(n, wildcards.k, wildcards.H, gan=True) for n in ev["gan_nets"]]
        + [paths.sr_perceptual_model(n, wildcards.k, wildcards.H) for n in ev["perceptual_nets"]]
    )


def sr_eval_outputs():
    ev = config["sr"]["eval"]
    return [
        paths.sr_eval_dir(k, H, file=f)
        for k in ev["scales"]
        for H in ev["hr_sizes"]
        for f in ("table.csv", "crops.png")
    ]


# ---------------------------------------------------------------------------------------------- autoencoder
def ae_arch():
    return config["ae"]["arch"]


def ae_sample_settings():
    """The sample section minus the list of samplers (that list only chooses targets)."""
    return {k: v for k, v in config["sample"].items() if k != "samplers"}


def ae_sample_checks(S, arch=None):
    return [
        paths.sample_file(arch or ae_arch(), S, s) for s in config["sample"]["samplers"]
    ]


def ae_products(S, arch=None):
    """Everything the autoencoder family makes for one tile size: model, test evaluation, prior, checked samples."""
    arch = arch or ae_arch()
    return [
        paths.ae_model(arch, S),
        paths.ae_eval(arch, S),
        paths.ae_prior(arch, S),
        *ae_sample_checks(S, arch),
    ]


# ---------------------------------------------------------------------------------------------- AE variants
def names_regex(names):
    """A wildcard constraint matching exactly these names; (?!) matches nothing (no variant, no competing rule)."""
    return "|".join(names) if names else "(?!)"


def progressive_stage_inputs(wildcards):
    name, S = wildcards.name, wildcards.S
    i = rc.progressive_stage_index(config, name, S)
    inputs = {
        "summary": paths.dataset_summary(
            rc.progressive_stage_data_size(config, name, S)
        )
    }
    if i > 0:
        prev = rc.progressive_chain(config, name)["sizes"][i - 1]
        inputs["init"] = paths.progressive_stage_model(name, prev)
    return inputs


def ae_variant_inputs(wildcards):
    files = {paths.dataset_summary(wildcards.S)}
    for row in rc.ae_variant_rows(config, wildcards.S):
        files.add(row["ae"])
        files.update(row["train_benchmarks"])
    return sorted(files)


def ae_variant_products():
    """What `snakemake ae_variants` builds: every variant's model with its downstream products (test evaluation,
    prior, checked samples), the multi-scale per-level outputs, and the comparison with the native AE.
    """
    S = config["ae_variants"]["size"]
    files = [paths.ae_variants_dir(S, file="comparison.md")]
    for name in rc.progressive_names(config):
        files += ae_products(rc.progressive_chain(config, name)["sizes"][-1], name)
    for name in rc.multiscale_names(config):
        files += ae_products(S, name)
        files.append(paths.ae_levels_dir(name, S, file="levels.json"))
    return files


# ---------------------------------------------------------------------------------------------- generation, benchmark
def generate_inputs(wildcards):
    opt = rc.option(config, wildcards.option)
    S, arch = opt.ae_size, ae_arch()
    if opt.start == "scene":  # the scene generator's model instead of the AE and its prior
        inputs = {"scene": paths.scene_model(config["scene"]["ground_size"])}
    else:
        inputs = {
            "ae": paths.ae_model(arch, S),
            "prior": paths.ae_prior(arch, S),
            "test_latents": paths.latents_dir(arch, S, file="test.npy"),
        }
    if opt.sr_model is not None:
        inputs["sr"] = opt.sr_model.path
    if opt.detail:
        inputs["banks"] = paths.patch_banks(S)
    if opt.output_size in config["dataset"]["sizes"]:
        inputs["real"] = paths.dataset_summary(opt.output_size)
    if rc.JUDGE_GROUND_SIZE in config["dataset"]["sizes"]:
        inputs["ground"] = paths.dataset_summary(rc.JUDGE_GROUND_SIZE)  # the realism judges' real tiles
    return inputs


def generate_mem(wildcards):
    """The generate job's declared memory (MB), from its option's sizes and the detail and realism caps."""
    opt, sizes = rc.option(config, wildcards.option), config["dataset"]["sizes"]
    mem = generate_mem_mb(n=config["generate"]["n"], native=opt.ae_size, output=opt.output_size,
                          detail=config["detail"] if opt.detail else None, realism=config["realism"],
                          real=opt.output_size in sizes, ground=rc.JUDGE_GROUND_SIZE in sizes)
    if opt.upscale == "sr" and opt.sr_model.kind == "exemplar":  # the exemplar canvas's levels and one search
        mem += exemplar_mem_mb(config["sr"]["exemplar"], opt.output_size)
    if opt.start == "scene":  # the scene model and one scene's synthesis beside the rest
        mem += scene_memory_mb(opt.ae_size, rc.scene_fit_param(config), config["scene"]["synthesis"])
    return mem


def benchmark_inputs(wildcards):
    return sorted({f for row in rc.benchmark_rows(config) for f in row.inputs()})


# The overview figure (README): real test tiles, the detail stage's samples, and a real tile through the main job's
# SR net.
FIGURE_GENERATED, FIGURE_UPSCALED = "option_t", "option_a"


def overview_figure_inputs(wildcards):
    generated, upscaled = rc.option(config, FIGURE_GENERATED), rc.option(config, FIGURE_UPSCALED)
    return {
        "real": paths.dataset_summary(generated.output_size),
        "generated": paths.generated_dir(FIGURE_GENERATED, file="provenance.json"),
        "sr": upscaled.sr_model.path,
    }


def pyramid_sr_input(wildcards):
    up = rc.pyramid_upscaler(config)
    return [up.path] if isinstance(up, rc.SrModelRef) else []


def pyramid_layer_summaries():
    """The extra pyramids of config pyramid.layers: layers of the main pyramid's map page."""
    return [
        paths.pyramid_layer_dir(rc.pyramid_out_zoom(config), n, file="summary.json")
        for n in rc.pyramid_layer_names(config)
    ]


def pyramid_layer_sr_input(wildcards):
    up = rc.pyramid_layer_upscaler(config, wildcards.layer)
    return [up.path] if isinstance(up, rc.SrModelRef) else []


def pyramid_out():
    return paths.pyramid_dir(rc.pyramid_out_zoom(config))


def pyramid_shard_outputs(wildcards):
    """One record per shard, from the shard list the `pyramid_shards` checkpoint wrote."""
    import json

    shards_json = checkpoints.pyramid_shards.get().output.shards
    with open(shards_json) as fh:
        shards = json.load(fh)["shards"]
    return [paths.pyramid_shard(rc.pyramid_out_zoom(config), s) for s in shards]


# ---------------------------------------------------------------------------------------------- refiner
def refiner_train_inputs(wildcards):
    inputs = {"summary": paths.dataset_summary(wildcards.H)}
    up = rc.refiner_upscaler(config, wildcards.name, wildcards.k, wildcards.H)
    if isinstance(up, rc.SrModelRef):
        inputs["sr"] = up.path
        inputs["index"] = paths.TILE_INDEX  # the net's LR may be the tree's coarser zoom (lr_source: pyramid)
    return inputs


def refined_outputs():
    return [
        paths.refined_dir(o, file="provenance.json")
        for o in config["refiner"]["refine_options"]
    ]
