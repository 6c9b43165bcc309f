from rockzoom.util.logs import job_logging

job_logging(snakemake.log[0])  # first: the rule's log gets this job's lines and any traceback

import json  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402

from rockzoom.generation.pyramid import upscale_pyramid  # noqa: E402
from rockzoom.superres.upscale import build_upscaler  # noqa: E402

torch.set_num_threads(snakemake.threads)
p = snakemake.params.pyramid
if p["upscale"] == "sr":
    upscaler = build_upscaler(checkpoint=snakemake.input.sr[0], scale=p["scale"], self_ensemble=p["self_ensemble"],
                              back_project=p["back_project"])
    workers = 1  # the net uses the job's threads
else:
    upscaler = build_upscaler(method=p["upscale"], scale=p["scale"], back_project=p["back_project"])
    workers = snakemake.threads
upscaler.name = snakemake.wildcards.layer
info = upscale_pyramid(
    snakemake.params.tile_dir,
    Path(snakemake.output.summary).parent,
    upscaler,
    zoom=snakemake.params.zoom,
    scheme=snakemake.params.scheme,
    context=p["context"],
    max_tiles=p["max_tiles"],
    shard_tiles=p["shard_tiles"],
    batch_size=p["batch_size"],
    workers=workers,
    index_csv=snakemake.input.index,
)
Path(snakemake.output.summary).write_text(json.dumps(info, indent=2))
