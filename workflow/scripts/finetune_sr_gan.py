from pathlib import Path

from rockzoom.superres.gan import finetune_sr_gan
from rockzoom.util.logs import file_logger

gan = dict(snakemake.params.gan)
train_cfg = gan.pop("train")
finetune_sr_gan(
    Path(snakemake.input.summary).parent,
    snakemake.input.psnr_model,
    model_out=snakemake.output.model,
    metrics_csv=snakemake.output.metrics,
    curve_png=snakemake.output.curve,
    train_cfg=train_cfg,
    gan=gan,
    seed=snakemake.params.seed,
    gpus=snakemake.resources.gpu,
    log=file_logger(snakemake.log[0]),
    progress=False,
)
