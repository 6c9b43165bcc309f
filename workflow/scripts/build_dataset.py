from rockzoom.util.logs import job_logging

job_logging(snakemake.log[0])  # first: the rule's log gets this job's lines and any traceback

from pathlib import Path  # noqa: E402

from rockzoom.data.dataset import build_dataset  # noqa: E402

build_dataset(
    snakemake.input.index,
    snakemake.input.blocks,
    Path(snakemake.output.summary).parent,
    size=int(snakemake.wildcards.S),
    min_valid=snakemake.params.min_valid,
    guard_tiles=snakemake.params.guard_tiles,
    max_pixels=snakemake.params.max_pixels,
    max_samples=snakemake.params.max_samples,
    seed=snakemake.params.seed,
    workers=snakemake.threads,
    fit_json=snakemake.input.fit,
)
