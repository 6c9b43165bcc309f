from rockzoom.util.logs import job_logging

job_logging(snakemake.log[0])  # first: the rule's log gets this job's lines and any traceback

from rockzoom.util.memory import return_large_buffers  # noqa: E402

return_large_buffers()  # freed large buffers go back to the system, not kept in the heap (docs/scale.md)

from pathlib import Path  # noqa: E402

from rockzoom.generation.realism import run_realism_part  # noqa: E402

run_realism_part(snakemake.params.part, snakemake.params.rows, ground_dir=Path(snakemake.input.ground).parent,
                 rows_csv=snakemake.output.rows, power_json=snakemake.output.get("power"),
                 settings=snakemake.params.realism, seed=snakemake.params.seed, device="cpu")
