from snakemake.utils import min_version, validate

import rockzoom.config

min_version("9.0")


configfile: "config/config.yaml"  # = src/rockzoom/config/defaults.yaml; --configfile files are layered over it


# The one schema (package data of rockzoom.config), defaults filled in; then the checks a schema cannot express.
validate(config, str(rockzoom.config.SCHEMA_PATH))
rockzoom.config.check(config)
rockzoom.config.check_tile_dir(config)


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/tiles.smk"
include: "workflow/rules/datasets.smk"
include: "workflow/rules/superres.smk"
include: "workflow/rules/autoencoder.smk"
include: "workflow/rules/ae_variants.smk"
include: "workflow/rules/realism.smk"
include: "workflow/rules/scene.smk"
include: "workflow/rules/targets.smk"
include: "workflow/rules/refiner.smk"
