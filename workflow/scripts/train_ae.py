from pathlib import Path

from rockzoom.autoencoder.train import train_autoencoder
from rockzoom.util.logs import file_logger

train_autoencoder(
    Path(snakemake.input.summary).parent,
    snakemake.output.model,
    snakemake.params.arch,
    snakemake.params.seed,
    gpus=snakemake.resources.gpu,
    log=file_logger(snakemake.log[0]),
    progress=False,
)
