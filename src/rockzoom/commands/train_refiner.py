"""`rockzoom train-refiner`: train (or resume) the diffusion refiner on (upscaled LR, real HR) pairs."""
from __future__ import annotations

import argparse
from pathlib import Path

import rockzoom.config as rc

NAME = "train-refiner"
HELP = "train or resume the diffusion refiner (refiner section) after bicubic/lanczos/an SR net; state in <out dir>.state/"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", required=True, help="HR dataset folder, e.g. results/data/s256")
    parser.add_argument("--model-out", required=True, help="checkpoint, e.g. results/refiner/rlfn-x4-h256/model.pt")
    rc.add_config_argument(parser, "the refiner section and seed")
    parser.add_argument("--upscaler", required=True, help="the condition: bicubic, lanczos, or an SR net name")
    parser.add_argument("--sr-model", default=None, help="that SR net's checkpoint (when --upscaler is an SR net)")
    parser.add_argument("--index", default=None,
                        help="the tile index (results/tiles/index.csv): needed when that SR net was trained on the "
                             "tree's own coarser zoom (lr_source: pyramid)")
    parser.add_argument("--scale", type=int, default=4)
    parser.add_argument("--gpus", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar, log lines only")


def run(args: argparse.Namespace) -> int:
    from rockzoom.refiner.train import train_refiner

    config = rc.load_cli_config(args)
    ref = config["refiner"]
    out_dir = Path(args.model_out).parent
    train_refiner(args.data_dir, model_out=args.model_out, metrics_csv=out_dir / "metrics.csv",
                  curve_png=out_dir / "curve.png", scale=args.scale, upscaler=args.upscaler, net=ref["net"],
                  prediction=ref["prediction"], train_cfg=rc.stage_settings(config, "refiner.train"), seed=config["seed"],
                  sr_model=args.sr_model, index_csv=args.index, gpus=args.gpus,
                  progress=False if args.no_progress else None)
    return 0
