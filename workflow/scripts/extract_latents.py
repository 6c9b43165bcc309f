from pathlib import Path

from rockzoom.autoencoder.latents import extract_latents
from rockzoom.util.logs import file_logger

extract_latents(
    snakemake.input.model,
    Path(snakemake.input.summary).parent,
    Path(snakemake.output.summary).parent,
    log=file_logger(snakemake.log[0]),
)
