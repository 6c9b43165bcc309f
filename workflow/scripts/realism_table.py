from rockzoom.util.logs import job_logging

job_logging(snakemake.log[0])  # first: the rule's log gets this job's lines and any traceback

from rockzoom.generation.realism import realism_table_from_parts  # noqa: E402

realism_table_from_parts(snakemake.input.parts, snakemake.input.power, table_csv=snakemake.output.table,
                         table_md=snakemake.output.markdown, plot_png=snakemake.output.plot)
