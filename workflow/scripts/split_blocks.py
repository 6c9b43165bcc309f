from rockzoom.util.logs import job_logging

job_logging(snakemake.log[0])  # first: the rule's log gets this job's lines and any traceback

from rockzoom.config import size_needs  # noqa: E402
from rockzoom.data.dataset import make_split  # noqa: E402

# params.needs ({size: splits}) is what the split depends on; the config adds the target names for the messages
needs = size_needs(snakemake.config)
assert {s: sorted(d) for s, d in needs.items()} == snakemake.params.needs

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
    needs=needs,
    fit_json=snakemake.output.fit,
)
