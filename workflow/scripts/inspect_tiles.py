from rockzoom.util.logs import job_logging

job_logging(snakemake.log[0])  # first: the rule's log gets this job's lines and any traceback

from pathlib import Path  # noqa: E402

from rockzoom.data.inspection import inspect_tree, read_rejected, write_inspection  # noqa: E402
from rockzoom.data.tiles import read_index  # noqa: E402

p = snakemake.params
ins = inspect_tree(p.tile_dir, read_index(snakemake.input.index), read_rejected(snakemake.input.rejected),
                   zoom=p.zoom, scheme=p.scheme, sizes=p.sizes, min_valid=p.min_valid, split=p.split, seed=p.seed,
                   target_needs=p.target_needs)
write_inspection(ins, Path(snakemake.output.summary).parent)
