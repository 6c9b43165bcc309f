from rockzoom.util.logs import job_logging

job_logging(snakemake.log[0])  # first: the rule's log gets this job's lines and any traceback

from pathlib import Path  # noqa: E402

from rockzoom.superres.exemplar import ExemplarSettings, build_exemplar_checkpoint  # noqa: E402

build_exemplar_checkpoint(snakemake.input.psnr_model, Path(snakemake.input.summary).parent, snakemake.output.model,
                          ExemplarSettings.from_config(snakemake.params.settings))
