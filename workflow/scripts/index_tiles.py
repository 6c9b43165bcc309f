from rockzoom.util.logs import job_logging

job_logging(snakemake.log[0])  # first: the rule's log gets this job's lines and any traceback

from rockzoom.data.tiles import build_index  # noqa: E402

build_index(
    snakemake.params.tile_dir,
    snakemake.params.zoom,
    snakemake.output.index,
    snakemake.output.rejected,
    scheme=snakemake.params.scheme,
    source=snakemake.params.source,
    max_pixels=snakemake.params.max_pixels,
    workers=snakemake.threads,
)
