from rockzoom.util.logs import job_logging

job_logging(snakemake.log[0])  # first: the rule's log gets this job's lines and any traceback

from pathlib import Path  # noqa: E402

from rockzoom.superres.train import train_sr  # noqa: E402

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
    index_csv=snakemake.input.index,
    progress=False,
)
