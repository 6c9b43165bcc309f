"""Every result path of the workflow, written once. Called with concrete values they give a file; called with
wildcard names (``"{net}"``) they give the pattern a rule's ``output:`` uses, so a rule and the code that asks for
its file can never disagree."""
from __future__ import annotations


def dataset_dir(S, file: str | None = None) -> str:
    d = f"results/data/s{S}"
    return d if file is None else f"{d}/{file}"


def dataset_summary(S) -> str:
    return f"{dataset_dir(S)}/summary.json"


def runtime_tsv(rule_name: str, name: str) -> str:
    """Where a rule's `benchmark:` (wall time, RSS) goes; the benchmark table reads training times from it."""
    return f"results/runtime/{rule_name}/{name}.tsv"


def sr_tag(net, k, H) -> str:
    return f"{net}-x{k}-h{H}"


def sr_dir(net, k, H, gan: bool = False, file: str | None = None) -> str:
    d = f"results/{'sr_gan' if gan else 'sr'}/{sr_tag(net, k, H)}"
    return d if file is None else f"{d}/{file}"


def sr_model(net, k, H, gan: bool = False) -> str:
    return f"{sr_dir(net, k, H, gan)}/model.pt"


def sr_perceptual_dir(net, k, H, file: str | None = None) -> str:
    """The perceptual fine-tune of the PSNR model results/sr/{net}-x{k}-h{H} (sr_model kind: perceptual)."""
    d = f"results/sr_perceptual/{sr_tag(net, k, H)}"
    return d if file is None else f"{d}/{file}"


def sr_perceptual_model(net, k, H) -> str:
    return f"{sr_perceptual_dir(net, k, H)}/model.pt"


def sr_exemplar_model(net, k, H) -> str:
    """The PSNR model results/sr/{net}-x{k}-h{H} with its exemplar ground (sr_model kind: exemplar)."""
    return f"results/sr_exemplar/{sr_tag(net, k, H)}/model.pt"


def sr_eval_dir(k, H, file: str | None = None) -> str:
    d = f"results/sr_eval/x{k}-h{H}"
    return d if file is None else f"{d}/{file}"


def ae_dir(arch, S, file: str | None = None) -> str:
    d = f"results/ae/{arch}-s{S}"
    return d if file is None else f"{d}/{file}"


def ae_model(arch, S) -> str:
    return f"{ae_dir(arch, S)}/model.pt"


def ae_eval(arch, S) -> str:
    return f"{ae_dir(arch, S)}/eval/test_metrics.json"


def latents_dir(arch, S, file: str | None = None) -> str:
    d = f"results/latents/{arch}-s{S}"
    return d if file is None else f"{d}/{file}"


def ae_prior(arch, S) -> str:
    return f"{latents_dir(arch, S)}/prior.pt"


def sample_file(arch, S, sampler, ext: str = "json") -> str:
    return f"results/samples/{arch}-s{S}/{sampler}.{ext}"


def progressive_stage_dir(name, S, file: str | None = None) -> str:
    d = f"results/ae_progressive/{name}/s{S}"
    return d if file is None else f"{d}/{file}"


def progressive_stage_model(name, S) -> str:
    return f"{progressive_stage_dir(name, S)}/model.pt"


def ae_levels_dir(arch, S, file: str | None = None) -> str:
    d = f"results/ae_levels/{arch}-s{S}"
    return d if file is None else f"{d}/{file}"


def ae_variants_dir(S, file: str | None = None) -> str:
    d = f"results/ae_variants/s{S}"
    return d if file is None else f"{d}/{file}"


def refiner_tag(name, k, H) -> str:
    return f"{name}-x{k}-h{H}"


def refiner_dir(name, k, H, file: str | None = None) -> str:
    d = f"results/refiner/{refiner_tag(name, k, H)}"
    return d if file is None else f"{d}/{file}"


def refiner_model(name, k, H) -> str:
    """Refiner trained after upscaler `name` (bicubic, lanczos or an SR net) at x`k` on HR mosaics s`H`."""
    return f"{refiner_dir(name, k, H)}/model.pt"


def generated_dir(option, file: str | None = None) -> str:
    d = f"results/generated/{option}"
    return d if file is None else f"{d}/{file}"


def refined_dir(option, file: str | None = None) -> str:
    d = f"results/refined/{option}"
    return d if file is None else f"{d}/{file}"


def pyramid_dir(zoom, file: str | None = None) -> str:
    d = f"results/pyramid/z{zoom}"
    return d if file is None else f"{d}/{file}"


def pyramid_layer_dir(zoom, name, file: str | None = None) -> str:
    """One more pyramid of the same tiles (config pyramid.layers), a layer of the main pyramid's map page."""
    d = f"results/pyramid/z{zoom}-{name}"
    return d if file is None else f"{d}/{file}"


def pyramid_shards(zoom) -> str:
    """The shard list of a sharded pyramid (beside the tile tree, so the tree holds only tiles)."""
    return f"results/pyramid/shards-z{zoom}/shards.json"


def pyramid_shard(zoom, shard) -> str:
    """One shard's record, written when all its tiles are."""
    return f"results/pyramid/shards-z{zoom}/{shard}.json"


BENCHMARK_DIR = "results/benchmark"


def benchmark_file(file: str) -> str:
    return f"{BENCHMARK_DIR}/{file}"
TILE_INDEX = "results/tiles/index.csv"
TILE_BLOCKS = "results/tiles/blocks.csv"
SPLIT_FIT = "results/tiles/split.json"  # the split's block zoom, samples per size and split, unsupported sizes
TILE_INSPECT = "results/tiles/inspect"  # rule inspect_tiles: coverage map, histograms, summary
DEMO_TILES = "results/demo_tiles"


def tile_inspect(file: str) -> str:
    return f"{TILE_INSPECT}/{file}"


def scene_model(S) -> str:
    """The scene generator's model fitted on the training split of results/data/s{S}."""
    return f"results/scene/model-s{S}.pt"


def scene_samples(S, size, ext: str = "npy") -> str:
    """Samples of ``size`` px from the scene model of results/data/s{S} (the realism table's rows), and their
    records (ext json)."""
    return f"results/samples/scene-s{S}/{size}px.{ext}"


def patch_banks(S) -> str:
    return f"results/texture/banks-s{S}.pt"


def detail_samples(arch, S, sampler) -> str:
    return f"results/samples/{arch}-s{S}/{sampler}-detail.npy"


def figure(file: str) -> str:
    """A figure the README and docs/ show, regenerated by `snakemake figures` (tracked in the repository)."""
    return f"docs/figures/{file}"
