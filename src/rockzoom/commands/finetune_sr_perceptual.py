"""`rockzoom finetune-sr-perceptual`: the perceptual fine-tune of a PSNR-trained SR checkpoint (sr_model kind
perceptual)."""
from __future__ import annotations

import argparse

import rockzoom.config as rc

NAME = "finetune-sr-perceptual"
HELP = ("fine-tune an SR checkpoint to draw texture: patch discriminator, LDL, LR consistency, patch-SWD, Gram and "
        "FFT losses (settings from sr.perceptual)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", required=True, help="HR dataset folder, e.g. results/data/s256")
    parser.add_argument("--psnr-model", required=True, help="the PSNR-trained checkpoint to start from")
    parser.add_argument("--model-out", required=True, help="e.g. results/sr_perceptual/rlfn-x4-h256/model.pt")
    rc.add_config_argument(parser, "sr.perceptual and seed")
    parser.add_argument("--index", default="results/tiles/index.csv",
                        help="the tile index (when the PSNR model was trained with lr_source: pyramid)")
    parser.add_argument("--gpus", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rockzoom.superres.perceptual import finetune_sr_perceptual

    config = rc.load_cli_config(args)
    out_dir = Path(args.model_out).parent
    finetune_sr_perceptual(args.data_dir, args.psnr_model, model_out=args.model_out,
                           metrics_csv=out_dir / "metrics.csv", curve_png=out_dir / "curve.png",
                           settings=rc.sr_perceptual_settings(config), seed=config["seed"], gpus=args.gpus,
                           index_csv=args.index, progress=False if args.no_progress else None)
    return 0
