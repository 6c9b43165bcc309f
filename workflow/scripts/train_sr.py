from pathlib import Path

from rockzoom.logs import file_logger
from rockzoom.sr_train import train_sr

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
