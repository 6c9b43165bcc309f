from rockzoom.util.logs import job_logging

job_logging(snakemake.log[0])  # first: the rule's log gets this job's lines and any traceback

from pathlib import Path  # noqa: E402

from rockzoom.autoencoder.evaluate import eval_autoencoder  # noqa: E402

eval_autoencoder(
    snakemake.input.model,
    Path(snakemake.input.summary).parent,
    snakemake.output.metrics,
    snakemake.output.grid,
    split="test",
    seed=snakemake.params.seed,
)
