from rockzoom.util.logs import job_logging

job_logging(snakemake.log[0])  # first: the rule's log gets this job's lines and any traceback

from rockzoom.util.memory import return_large_buffers  # noqa: E402

return_large_buffers()  # freed large buffers go back to the system, not kept in the heap (docs/scale.md)

from pathlib import Path  # noqa: E402

from rockzoom.scene.stage import fit_from_dataset  # noqa: E402

fit_from_dataset(Path(snakemake.input.summary).parent, snakemake.output.model, seed=snakemake.params.seed,
                 **snakemake.params.fit)
