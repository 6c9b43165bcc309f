"""`rockzoom finetune-sr-gan`: adversarial fine-tuning of a PSNR-trained SR checkpoint."""
from __future__ import annotations

import argparse

import rockzoom.config as rc

NAME = "finetune-sr-gan"
HELP = "fine-tune an SR checkpoint with a relativistic discriminator + frequency loss (settings from sr.gan)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", required=True, help="HR dataset folder, e.g. results/data/s256")
    parser.add_argument("--psnr-model", required=True, help="the PSNR-trained checkpoint to start from")
    parser.add_argument("--model-out", required=True, help="e.g. results/sr_gan/rlfn-x4-h256/model.pt")
    rc.add_config_argument(parser, "sr.gan and seed")
    parser.add_argument("--index", default="results/tiles/index.csv",
                        help="the tile index (when the PSNR model was trained with lr_source: pyramid)")
    parser.add_argument("--gpus", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true")


def run(args: argparse.Namespace) -> int:
    from rockzoom.superres.gan import finetune_sr_gan

    config = rc.load_cli_config(args)
    gan = rc.sr_gan_settings(config)
    train_cfg = gan.pop("train")
    out_dir = args.model_out.rsplit("/", 1)[0] if "/" in args.model_out else "."
    finetune_sr_gan(args.data_dir, args.psnr_model, model_out=args.model_out, metrics_csv=f"{out_dir}/metrics.csv",
                    curve_png=f"{out_dir}/curve.png", train_cfg=train_cfg, gan=gan, seed=config["seed"],
                    gpus=args.gpus, index_csv=args.index, progress=False if args.no_progress else None)
    return 0
