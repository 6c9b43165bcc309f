from pathlib import Path

from rockzoom.superres.evaluate import eval_sr
from rockzoom.util.logs import file_logger

eval_sr(
    Path(snakemake.input.summary).parent,
    scale=int(snakemake.wildcards.k),
    models=list(snakemake.input.models),
    table_csv=snakemake.output.table,
    crops_png=snakemake.output.crops,
    max_images=snakemake.params.max_images,
    seed=snakemake.params.seed,
    gpus=snakemake.resources.gpu,
    log=file_logger(snakemake.log[0]),
)
