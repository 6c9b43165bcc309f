from rockzoom.util.logs import job_logging

job_logging(snakemake.log[0])  # first: the rule's log gets this job's lines and any traceback

from pathlib import Path  # noqa: E402

from rockzoom.autoencoder.multiscale import eval_levels  # noqa: E402

eval_levels(
    snakemake.input.model,
    Path(snakemake.input.summary).parent,
    snakemake.output.metrics,
    snakemake.output.levels,
    snakemake.output.grid,
    n_saved=snakemake.params.n_saved,
    seed=snakemake.params.seed,
)
