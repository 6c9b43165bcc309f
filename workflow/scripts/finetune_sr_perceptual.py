from rockzoom.util.logs import job_logging

job_logging(snakemake.log[0])  # first: the rule's log gets this job's lines and any traceback

from pathlib import Path  # noqa: E402

from rockzoom.superres.perceptual import finetune_sr_perceptual  # noqa: E402

finetune_sr_perceptual(
    Path(snakemake.input.summary).parent,
    snakemake.input.psnr_model,
    model_out=snakemake.output.model,
    metrics_csv=snakemake.output.metrics,
    curve_png=snakemake.output.curve,
    settings=snakemake.params.settings,
    seed=snakemake.params.seed,
    gpus=snakemake.resources.gpu,
    index_csv=snakemake.input.index,
    progress=False,
)
