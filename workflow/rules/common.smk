import os
from pathlib import Path

from snakemake.exceptions import WorkflowError


wildcard_constraints:
    S=r"\d+",
    k=r"\d+",
    H=r"\d+",


def _check_config(cfg):
    """Checks JSON Schema cannot express; run at parse time so a bad value fails before any job."""
    tile_dir = cfg["tiles"]["dir"]
    if tile_dir is not None:
        zoom_dir = Path(tile_dir) / str(cfg["tiles"]["zoom"])
        if not zoom_dir.is_dir():
            raise WorkflowError(
                f"config key tiles.dir: {tile_dir!r} has no zoom-{cfg['tiles']['zoom']} folder "
                f"({zoom_dir} not found); set tiles.dir to a z/x/y tile tree or null for the demo pyramid"
            )
    zoom, block_zoom = cfg["tiles"]["zoom"], cfg["split"]["block_zoom"]
    if block_zoom > zoom:
        raise WorkflowError(
            f"config key split.block_zoom: {block_zoom} must be <= tiles.zoom ({zoom})"
        )
    block_px = 256 * 2 ** (zoom - block_zoom)
    for size in cfg["dataset"]["sizes"]:
        if size > block_px:
            raise WorkflowError(
                f"config key dataset.sizes: {size} px does not fit in a split block of {block_px} px "
                f"(split.block_zoom={block_zoom}); allowed sizes here: <= {block_px}"
            )


_check_config(config)


def tile_dir():
    """The tile tree to index: the configured one, or the generated demo pyramid."""
    return config["tiles"]["dir"] or "results/demo_tiles"


def demo_tiles_input(wildcards):
    return [] if config["tiles"]["dir"] else ["results/demo_tiles"]


def dataset_summary(size):
    return f"results/data/s{size}/summary.json"


def all_datasets():
    return [dataset_summary(s) for s in config["dataset"]["sizes"]]


def runtime_tsv(rule_name, name):
    """Where a rule's `benchmark:` (wall time, RSS) goes; the benchmark table reads training times from it."""
    return f"results/runtime/{rule_name}/{name}.tsv"
