from rockzoom.util.logs import job_logging

job_logging(snakemake.log[0])  # first: the rule's log gets this job's lines and any traceback

from pathlib import Path  # noqa: E402
from rockzoom.data.tiles import resolve_scheme  # noqa: E402
from rockzoom.generation.pyramid import finish_pyramid  # noqa: E402

finish_pyramid(
    str(Path(snakemake.output.summary).parent),
    snakemake.input.shards,
    snakemake.output.summary,
    zoom=snakemake.params.zoom,
    scale=snakemake.params.scale,
    row_scheme=resolve_scheme(snakemake.params.tile_dir, snakemake.params.scheme),
    tile_dir=snakemake.params.tile_dir,
    others=snakemake.params.others,
)
