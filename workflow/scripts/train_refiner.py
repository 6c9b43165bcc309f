from pathlib import Path

from rockzoom.refiner.train import train_refiner
from rockzoom.util.logs import file_logger

train_refiner(
    Path(snakemake.input.summary).parent,
    model_out=snakemake.output.model,
    metrics_csv=snakemake.output.metrics,
    curve_png=snakemake.output.curve,
    scale=int(snakemake.wildcards.k),
    upscaler=snakemake.wildcards.name,
    net=snakemake.params.net,
    prediction=snakemake.params.prediction,
    train_cfg=snakemake.params.train,
    seed=snakemake.params.seed,
    sr_model=snakemake.input.get("sr"),
    gpus=snakemake.resources.gpu,
    log=file_logger(snakemake.log[0]),
    progress=False,
)
