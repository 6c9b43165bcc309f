from rockzoom.autoencoder.prior import fit_prior
from rockzoom.util.logs import file_logger

fit_prior(
    snakemake.input.train,
    snakemake.output.prior,
    snakemake.output.summary,
    snakemake.params.prior,
    snakemake.params.seed,
    log=file_logger(snakemake.log[0]),
)
