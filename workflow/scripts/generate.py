from pathlib import Path

from rockzoom.generation.generate import generate
from rockzoom.util.logs import file_logger

opt, gen = snakemake.params.option, snakemake.params.generate
generate(
    snakemake.input.ae,
    snakemake.input.prior,
    Path(snakemake.input.test_latents).parent,
    Path(snakemake.output.provenance).parent,
    sampler=gen["sampler"],
    n=gen["n"],
    seed=snakemake.params.seed,
    upscale=opt["upscale"],
    scale=opt["scale"],
    sr_model=snakemake.input.get("sr"),
    real_dir=Path(snakemake.input.real).parent if "real" in snakemake.input.keys() else None,
    temperature=gen["temperature"],
    perturb_sigma=gen["perturb_sigma"],
    flat_std=gen["flat_std"],
    tile=gen["tile"],
    overlap=gen["overlap"],
    log=file_logger(snakemake.log[0]),
)
