from rockzoom.util.logs import job_logging

job_logging(snakemake.log[0])  # first: the rule's log gets this job's lines and any traceback

from rockzoom.data.dataset import make_split  # noqa: E402

make_split(
    snakemake.input.index,
    snakemake.output.blocks,
    zoom=snakemake.params.zoom,
    block_zoom=snakemake.params.split["block_zoom"],
    fractions=snakemake.params.split["fractions"],
    stratify=snakemake.params.split["stratify"],
    seed=snakemake.params.seed,
    sizes=snakemake.params.sizes,
    min_valid=snakemake.params.min_valid,
    guard_tiles=snakemake.params.split["guard_tiles"],
    needs=snakemake.params.needs,
    fit_json=snakemake.output.fit,
)
