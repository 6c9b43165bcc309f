from rockzoom.util.logs import job_logging

job_logging(snakemake.log[0])  # first: the rule's log gets this job's lines and any traceback

from rockzoom.generation.benchmark import run_benchmark  # noqa: E402

out = snakemake.output
run_benchmark(
    snakemake.params.rows,
    table_csv=out.table,
    table_md=out.markdown,
    psnr_png=out.psnr,
    spectrum_png=out.spectrum,
    crops_png=out.crops,
    machine_json=out.machine,
    max_images=snakemake.params.max_images,
    seed=snakemake.params.seed,
)
