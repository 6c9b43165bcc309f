from rockzoom.refiner.stage import refine_images
from rockzoom.util.devices import acquire_gpus
from rockzoom.util.logs import file_logger

log = file_logger(snakemake.log[0])
acquire_gpus(snakemake.resources.gpu, log=log)
s = snakemake.params.sample
refine_images(
    snakemake.input.samples,
    snakemake.output.samples,
    model=snakemake.input.model,
    steps=s["steps"],
    seed=snakemake.params.seed,
    eta=s["eta"],
    patch=s["patch"],
    overlap=s["overlap"],
    batch=s["batch"],
    sheet=snakemake.output.sheet,
    provenance=snakemake.output.provenance,
    log=log,
)
