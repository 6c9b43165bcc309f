from rockzoom.util.logs import job_logging

job_logging(snakemake.log[0])  # first: the rule's log gets this job's lines and any traceback

from pathlib import Path  # noqa: E402

from rockzoom.superres.evaluate import eval_sr  # noqa: E402

eval_sr(
    Path(snakemake.input.summary).parent,
    scale=int(snakemake.wildcards.k),
    models=list(snakemake.input.models),
    table_csv=snakemake.output.table,
    crops_png=snakemake.output.crops,
    max_images=snakemake.params.max_images,
    seed=snakemake.params.seed,
    lr_sources=tuple(snakemake.params.lr_sources),
    self_ensemble=snakemake.params.self_ensemble,
    index_csv=snakemake.input.index,
    gpus=snakemake.resources.gpu,
)
