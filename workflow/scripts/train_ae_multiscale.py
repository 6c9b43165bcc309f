from rockzoom.util.logs import job_logging

job_logging(snakemake.log[0])  # first: the rule's log gets this job's lines and any traceback

from pathlib import Path  # noqa: E402

from rockzoom.autoencoder.multiscale import train_multiscale  # noqa: E402

train_multiscale(
    Path(snakemake.input.summary).parent,
    snakemake.output.model,
    snakemake.params.model,
    snakemake.params.seed,
    gpus=snakemake.resources.gpu,
    progress=False,
)
