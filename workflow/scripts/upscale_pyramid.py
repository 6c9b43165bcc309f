from rockzoom.generation.pyramid import upscale_pyramid
from rockzoom.superres.upscale import build_upscaler
from rockzoom.util.logs import file_logger

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
    log=file_logger(snakemake.log[0]),
)
