from rockzoom.util.logs import job_logging

job_logging(snakemake.log[0])  # first: the rule's log gets this job's lines and any traceback

from rockzoom.autoencoder.prior import fit_prior  # noqa: E402

fit_prior(
    snakemake.input.train,
    snakemake.output.prior,
    snakemake.output.summary,
    snakemake.params.prior,
    snakemake.params.seed,
    train_masks_path=snakemake.input.train_masks,
)
