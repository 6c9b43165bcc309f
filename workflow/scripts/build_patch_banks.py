from rockzoom.util.logs import job_logging

job_logging(snakemake.log[0])  # first: the rule's log gets this job's lines and any traceback

from rockzoom.util.memory import return_large_buffers  # noqa: E402

return_large_buffers()  # freed large buffers go back to the system, not kept in the heap (docs/scale.md)

from pathlib import Path  # noqa: E402

from rockzoom.texture.stage import build_patch_banks  # noqa: E402

build_patch_banks(Path(snakemake.input.summary).parent, snakemake.output.banks, **snakemake.params.banks,
                  seed=snakemake.params.seed)
