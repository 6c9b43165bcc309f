from rockzoom.util.logs import job_logging

job_logging(snakemake.log[0])  # first: the rule's log gets this job's lines and any traceback

from pathlib import Path  # noqa: E402

from rockzoom.generation.generate import generate  # noqa: E402
from rockzoom.util.memory import return_large_buffers  # noqa: E402

return_large_buffers()  # freed descriptor blocks of the realism measures go back to the system (docs/scale.md)

opt, gen = snakemake.params.option, snakemake.params.generate
scene = snakemake.params.scene  # the scene generator's settings when the option starts from it
generate(
    snakemake.input.get("ae"),
    snakemake.input.get("prior"),
    Path(snakemake.input.test_latents).parent if scene is None else None,
    Path(snakemake.output.provenance).parent,
    sampler=gen["sampler"],
    n=gen["n"],
    seed=snakemake.params.seed,
    upscale=opt["upscale"],
    scale=opt["scale"],
    sr_model=snakemake.input.get("sr"),
    real_dir=Path(snakemake.input.real).parent if "real" in snakemake.input.keys() else None,
    ground_dir=Path(snakemake.input.ground).parent if "ground" in snakemake.input.keys() else None,
    temperature=gen["temperature"],
    perturb_sigma=gen["perturb_sigma"],
    flat_std=gen["flat_std"],
    tile=gen["tile"],
    overlap=gen["overlap"],
    self_ensemble=gen["self_ensemble"],
    back_project=opt.get("back_project", False),
    detail=None if snakemake.params.detail is None else {"banks": snakemake.input.banks,
                                                         "synthesis": snakemake.params.detail},
    realism=snakemake.params.realism,
    scene=None if scene is None else {"model": snakemake.input.scene, "size": opt["ae_size"], **scene},
)
