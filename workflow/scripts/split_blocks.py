from rockzoom.data.dataset import make_split
from rockzoom.util.logs import file_logger

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
    log=file_logger(snakemake.log[0]),
)
