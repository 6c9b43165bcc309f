from rockzoom.data.demo import make_demo_pyramid
from rockzoom.util.logs import file_logger

make_demo_pyramid(
    snakemake.output.tiles,
    tiles_x=snakemake.params.demo["tiles_x"],
    tiles_y=snakemake.params.demo["tiles_y"],
    zoom=snakemake.params.zoom,
    seed=snakemake.params.seed,
    log=file_logger(snakemake.log[0]),
)
