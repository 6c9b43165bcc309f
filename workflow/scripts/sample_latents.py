from rockzoom.util.logs import job_logging

job_logging(snakemake.log[0])  # first: the rule's log gets this job's lines and any traceback

from pathlib import Path  # noqa: E402

from rockzoom.autoencoder.sampling import generate_samples  # noqa: E402

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
)
