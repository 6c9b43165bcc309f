from rockzoom.util.logs import job_logging

job_logging(snakemake.log[0])  # first: the rule's log gets this job's lines and any traceback

from pathlib import Path  # noqa: E402

from rockzoom.generation.figures import overview_from_run  # noqa: E402

overview_from_run(
    Path(snakemake.input.real).parent,
    Path(snakemake.input.generated).parent / "samples",
    snakemake.input.sr,
    snakemake.output.overview,
    n=snakemake.params.n,
    crop=snakemake.params.crop,
    seed=snakemake.params.seed,
)
