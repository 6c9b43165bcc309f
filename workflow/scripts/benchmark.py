from rockzoom.generation.benchmark import run_benchmark
from rockzoom.util.logs import file_logger

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
    log=file_logger(snakemake.log[0]),
)
