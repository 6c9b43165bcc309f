from rockzoom.util.logs import job_logging

job_logging(snakemake.log[0])  # first: the rule's log gets this job's lines and any traceback

import torch  # noqa: E402

from rockzoom.generation.pyramid import run_shard  # noqa: E402
from rockzoom.superres.upscale import build_upscaler  # noqa: E402

torch.set_num_threads(snakemake.threads)
p = snakemake.params.pyramid
if p["upscale"] == "sr":
    upscaler = build_upscaler(checkpoint=snakemake.input.sr[0], scale=p["scale"], self_ensemble=p["self_ensemble"],
                              back_project=p["back_project"])
else:
    upscaler = build_upscaler(method=p["upscale"], scale=p["scale"], back_project=p["back_project"])
run_shard(
    snakemake.input.index,
    snakemake.params.tile_dir,
    snakemake.params.out_dir,
    snakemake.output.shard,
    upscaler,
    shard=snakemake.wildcards.shard,
    zoom=snakemake.params.zoom,
    scheme=snakemake.params.scheme,
    context=p["context"],
    shard_tiles=p["shard_tiles"],
    batch_size=p["batch_size"],
    max_tiles=p["max_tiles"],
)
