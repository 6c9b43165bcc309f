from rockzoom.util.logs import job_logging

job_logging(snakemake.log[0])  # first: the rule's log gets this job's lines and any traceback

from rockzoom.util.memory import return_large_buffers  # noqa: E402

return_large_buffers()  # freed large buffers go back to the system, not kept in the heap (docs/scale.md)

from rockzoom.scene.stage import write_scene_samples  # noqa: E402

write_scene_samples(snakemake.input.model, snakemake.output.images, snakemake.output.records,
                    n=snakemake.params.n, size=int(snakemake.wildcards.size), seed=snakemake.params.seed,
                    **snakemake.params.draw)
