from pathlib import Path

from rockzoom.autoencoder.progressive import train_progressive_stage
from rockzoom.util.logs import file_logger

train_progressive_stage(
    Path(snakemake.input.summary).parent,
    snakemake.output.model,
    snakemake.params.stage,
    snakemake.params.seed,
    init_path=snakemake.input.get("init"),
    gpus=snakemake.resources.gpu,
    log=file_logger(snakemake.log[0]),
    progress=False,
)
