from rockzoom.util.logs import job_logging

job_logging(snakemake.log[0])  # first: the rule's log gets this job's lines and any traceback

from rockzoom.generation.pyramid import upscale_pyramid  # noqa: E402
from rockzoom.superres.upscale import build_upscaler  # noqa: E402

p = snakemake.params.pyramid
if p["upscale"] == "sr":
    upscaler = build_upscaler(checkpoint=snakemake.input.sr[0], scale=p["scale"])
else:
    upscaler = build_upscaler(method=p["upscale"], scale=p["scale"])
upscale_pyramid(
    snakemake.params.tile_dir,
    snakemake.output.tiles,
    upscaler,
    zoom=snakemake.params.zoom,
    scheme=snakemake.params.scheme,
    context=p["context"],
    max_tiles=p["max_tiles"],
)
