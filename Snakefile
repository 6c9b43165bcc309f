from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/tiles.smk"
include: "workflow/rules/datasets.smk"
include: "workflow/rules/superres_common.smk"
include: "workflow/rules/superres.smk"
include: "workflow/rules/autoencoder_common.smk"
include: "workflow/rules/autoencoder.smk"
include: "workflow/rules/ae_variants.smk"
include: "workflow/rules/targets_common.smk"
include: "workflow/rules/targets.smk"
include: "workflow/rules/refiner.smk"
