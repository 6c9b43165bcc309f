"""rockzoom.config: the one config layer of the workflow and the CLI.

Load layered YAML files (``load_config``: the packaged defaults = config/config.yaml, then each file, later wins key by
key as Snakemake's ``--configfile a b``), validate them against the one schema (``SCHEMA_PATH``, also used by the
Snakefile) with its defaults filled in, and resolve what rules and commands need: stage settings with their engine
(``engine_defaults`` + the stage's ``engine:``), typed references to SR models and upscalers, benchmark rows,
progressive stages. A bad config raises ``ConfigError`` with one line naming the key.
"""
from rockzoom.config import paths
from rockzoom.config.loading import (
    DEFAULTS_PATH,
    SCHEMA_PATH,
    ConfigError,
    add_config_argument,
    load_cli_config,
    load_config,
    merge,
    read_yaml,
    schema,
    validate,
)
from rockzoom.config.needs import all_target_needs, size_needs, split_needs, target_needs
from rockzoom.config.resolve import (
    CLASSICAL,
    JUDGE_GROUND_SIZE,
    BenchmarkRow,
    Classical,
    Option,
    RefineSpec,
    SrModelRef,
    Upscaler,
    ae_arch,
    ae_variant_rows,
    benchmark_rows,
    check,
    check_tile_dir,
    default_refiner_model,
    detail_settings,
    engine,
    multiscale,
    multiscale_names,
    option,
    progressive_chain,
    progressive_names,
    progressive_runtimes,
    progressive_stage,
    progressive_stage_data_size,
    progressive_stage_index,
    pyramid_layer_names,
    pyramid_layer_param,
    pyramid_layer_upscaler,
    pyramid_out_zoom,
    pyramid_param,
    pyramid_upscaler,
    realism_generator_rows,
    realism_generator_inputs,
    realism_upscaler_inputs,
    realism_upscaler_rows,
    refiner_for_option,
    refiner_upscaler,
    scene_draw_param,
    scene_sample_count,
    scene_fit_param,
    scene_sizes,
    sr_gan_settings,
    sr_net,
    sr_train_settings,
    sr_perceptual_settings,
    stage_settings,
    threads,
)


def engine_defaults() -> dict:
    """The packaged engine_defaults block (the one place engine defaults are written)."""
    return dict(read_yaml(DEFAULTS_PATH)["engine_defaults"])


__all__ = [
    "paths", "DEFAULTS_PATH", "SCHEMA_PATH", "ConfigError", "add_config_argument", "load_cli_config", "load_config", "merge", "read_yaml", "schema", "validate",
    "CLASSICAL", "BenchmarkRow", "Classical", "Option", "RefineSpec", "SrModelRef", "Upscaler", "ae_arch",
    "ae_variant_rows", "benchmark_rows", "check", "check_tile_dir", "default_refiner_model", "engine", "engine_defaults",
    "multiscale", "multiscale_names", "option", "progressive_chain", "progressive_names", "progressive_runtimes",
    "progressive_stage", "progressive_stage_data_size", "progressive_stage_index", "pyramid_out_zoom",
    "pyramid_param", "pyramid_upscaler", "pyramid_layer_names", "pyramid_layer_param", "pyramid_layer_upscaler",
    "refiner_for_option", "refiner_upscaler", "sr_gan_settings", "sr_net", "sr_perceptual_settings", "sr_train_settings",
    "stage_settings", "threads", "detail_settings", "realism_generator_rows", "realism_generator_inputs",
    "realism_upscaler_inputs", "realism_upscaler_rows", "JUDGE_GROUND_SIZE",
]
