from pathlib import Path

from rockzoom.autoencoder.evaluate import eval_autoencoder
from rockzoom.util.logs import file_logger

eval_autoencoder(
    snakemake.input.model,
    Path(snakemake.input.summary).parent,
    snakemake.output.metrics,
    snakemake.output.grid,
    split="test",
    seed=snakemake.params.seed,
    log=file_logger(snakemake.log[0]),
)
