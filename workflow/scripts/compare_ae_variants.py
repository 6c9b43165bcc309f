from rockzoom.autoencoder.variants_compare import compare_variants
from rockzoom.util.logs import file_logger

compare_variants(
    snakemake.params.rows,
    snakemake.params.data_dir,
    snakemake.output.table,
    snakemake.output.markdown,
    seed=snakemake.params.seed,
    log=file_logger(snakemake.log[0]),
)
