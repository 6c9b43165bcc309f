from rockzoom.util.logs import job_logging

job_logging(snakemake.log[0])  # first: the rule's log gets this job's lines and any traceback

from pathlib import Path  # noqa: E402

from rockzoom.refiner.train import train_refiner  # noqa: E402

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
    index_csv=snakemake.input.get("index"),
    gpus=snakemake.resources.gpu,
    progress=False,
)
