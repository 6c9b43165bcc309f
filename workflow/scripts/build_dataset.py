from pathlib import Path

from rockzoom.data.dataset import build_dataset
from rockzoom.util.logs import file_logger

build_dataset(
    snakemake.input.index,
    snakemake.input.blocks,
    Path(snakemake.output.summary).parent,
    size=int(snakemake.wildcards.S),
    min_valid=snakemake.params.min_valid,
    guard_tiles=snakemake.params.guard_tiles,
    max_pixels=snakemake.params.max_pixels,
    log=file_logger(snakemake.log[0]),
)
