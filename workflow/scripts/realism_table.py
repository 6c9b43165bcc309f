from rockzoom.util.logs import job_logging

job_logging(snakemake.log[0])  # first: the rule's log gets this job's lines and any traceback

from rockzoom.util.memory import return_large_buffers  # noqa: E402

return_large_buffers()  # freed large buffers go back to the system, not kept in the heap (docs/scale.md)

from pathlib import Path  # noqa: E402

from rockzoom.generation.realism import run_realism_table  # noqa: E402

run_realism_table(snakemake.params.generators, snakemake.params.upscalers, ground_dir=Path(snakemake.input.ground).parent,
                  table_csv=snakemake.output.table,
                  table_md=snakemake.output.markdown, plot_png=snakemake.output.plot, settings=snakemake.params.realism,
                  seed=snakemake.params.seed, device="cpu")
