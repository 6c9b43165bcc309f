from rockzoom.autoencoder.progressive import export_stage
from rockzoom.util.logs import file_logger

export_stage(snakemake.input.model, snakemake.output.model, log=file_logger(snakemake.log[0]))
