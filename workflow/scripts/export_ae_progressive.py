from rockzoom.util.logs import job_logging

job_logging(snakemake.log[0])  # first: the rule's log gets this job's lines and any traceback

from rockzoom.autoencoder.progressive import export_stage  # noqa: E402

export_stage(snakemake.input.model, snakemake.output.model)
