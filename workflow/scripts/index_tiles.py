from rockzoom.data.tiles import build_index
from rockzoom.util.logs import file_logger

build_index(
    snakemake.params.tile_dir,
    snakemake.params.zoom,
    snakemake.output.index,
    snakemake.output.rejected,
    scheme=snakemake.params.scheme,
    max_pixels=snakemake.params.max_pixels,
    log=file_logger(snakemake.log[0]),
)
