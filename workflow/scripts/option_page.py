from rockzoom.util.logs import job_logging

job_logging(snakemake.log[0])  # first: the rule's log gets this job's lines and any traceback

from pathlib import Path  # noqa: E402
from rockzoom.generation.sheet_page import write_option_page  # noqa: E402

write_option_page(Path(snakemake.input.provenance).parent, option=snakemake.wildcards.option,
                  thumb=snakemake.params.thumb)
