from rockzoom.util.logs import job_logging

job_logging(snakemake.log[0])  # first: the rule's log gets this job's lines and any traceback

from rockzoom.data.demo import make_demo_pyramid  # noqa: E402

make_demo_pyramid(
    snakemake.output.tiles,
    tiles_x=snakemake.params.demo["tiles_x"],
    tiles_y=snakemake.params.demo["tiles_y"],
    zoom=snakemake.params.zoom,
    seed=snakemake.params.seed,
    chunk_tiles=snakemake.params.demo.get("chunk_tiles"),
    workers=snakemake.threads,
)
