from rockzoom.util.logs import job_logging

job_logging(snakemake.log[0])  # first: the rule's log gets this job's lines and any traceback

from pathlib import Path  # noqa: E402

from rockzoom.autoencoder.latents import extract_latents  # noqa: E402

extract_latents(
    snakemake.input.model,
    Path(snakemake.input.summary).parent,
    Path(snakemake.output.summary).parent,
)
