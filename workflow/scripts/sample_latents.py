from pathlib import Path

from rockzoom.autoencoder.sampling import generate_samples
from rockzoom.util.logs import file_logger

generate_samples(
    snakemake.input.model,
    snakemake.input.prior,
    Path(snakemake.input.test_latents).parent,
    snakemake.wildcards.sampler,
    snakemake.params.sample,
    snakemake.params.seed,
    snakemake.output.images,
    snakemake.output.grid,
    snakemake.output.checks,
    log=file_logger(snakemake.log[0]),
)
