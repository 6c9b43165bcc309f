from rockzoom.util.logs import job_logging

job_logging(snakemake.log[0])  # first: the rule's log gets this job's lines and any traceback

from rockzoom.generation.pyramid import write_shard_list  # noqa: E402

write_shard_list(
    snakemake.input.index,
    snakemake.output.shards,
    shard_tiles=snakemake.params.shard_tiles,
    max_tiles=snakemake.params.max_tiles,
)
