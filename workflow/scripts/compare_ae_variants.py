from rockzoom.util.logs import job_logging

job_logging(snakemake.log[0])  # first: the rule's log gets this job's lines and any traceback

from rockzoom.autoencoder.variants_compare import compare_variants  # noqa: E402

compare_variants(
    snakemake.params.rows,
    snakemake.params.data_dir,
    snakemake.output.table,
    snakemake.output.markdown,
    seed=snakemake.params.seed,
)
