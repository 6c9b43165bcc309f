from pathlib import Path

from rockzoom.superres.train import train_sr
from rockzoom.util.logs import file_logger

out = Path(snakemake.output.model)
train_sr(
    Path(snakemake.input.summary).parent,
    model_out=out,
    metrics_csv=snakemake.output.metrics,
    curve_png=snakemake.output.curve,
    scale=int(snakemake.wildcards.k),
    net=snakemake.params.net,
    train_cfg=snakemake.params.train,
    seed=snakemake.params.seed,
    gpus=snakemake.resources.gpu,
    log=file_logger(snakemake.log[0]),
    progress=False,
)
