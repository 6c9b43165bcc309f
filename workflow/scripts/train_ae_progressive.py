from rockzoom.util.logs import job_logging

job_logging(snakemake.log[0])  # first: the rule's log gets this job's lines and any traceback

from pathlib import Path  # noqa: E402

from rockzoom.autoencoder.progressive import train_progressive_stage  # noqa: E402

train_progressive_stage(
    Path(snakemake.input.summary).parent,
    snakemake.output.model,
    snakemake.params.stage,
    snakemake.params.seed,
    init_path=snakemake.input.get("init"),
    gpus=snakemake.resources.gpu,
    progress=False,
)
