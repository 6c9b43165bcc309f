from pathlib import Path

from rockzoom.autoencoder.multiscale import eval_levels
from rockzoom.util.logs import file_logger

eval_levels(
    snakemake.input.model,
    Path(snakemake.input.summary).parent,
    snakemake.output.metrics,
    snakemake.output.levels,
    snakemake.output.grid,
    n_saved=snakemake.params.n_saved,
    seed=snakemake.params.seed,
    log=file_logger(snakemake.log[0]),
)
