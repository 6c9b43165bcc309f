from rockzoom.util.logs import job_logging

job_logging(snakemake.log[0])  # first: the rule's log gets this job's lines and any traceback

from rockzoom.refiner.stage import refine_images  # noqa: E402
from rockzoom.util.devices import acquire_gpus  # noqa: E402

acquire_gpus(snakemake.resources.gpu)
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
)
