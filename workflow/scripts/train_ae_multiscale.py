from pathlib import Path

from rockzoom.autoencoder.multiscale import train_multiscale
from rockzoom.util.logs import file_logger

train_multiscale(
    Path(snakemake.input.summary).parent,
    snakemake.output.model,
    snakemake.params.model,
    snakemake.params.seed,
    gpus=snakemake.resources.gpu,
    log=file_logger(snakemake.log[0]),
    progress=False,
)
