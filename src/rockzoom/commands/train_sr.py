"""`rockzoom train-sr`: train (or resume) a super-resolution net on a dataset folder of real HR mosaics."""
from __future__ import annotations

import argparse

import rockzoom.config as rc

NAME = "train-sr"
HELP = "train or resume an SR net (sr.nets[NET]) on results/data/s{H}; state kept in <out dir>.state/"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", required=True, help="HR dataset folder, e.g. results/data/s256")
    parser.add_argument("--model-out", required=True, help="checkpoint to write, e.g. results/sr/rlfn-x4-h256/model.pt")
    rc.add_config_argument(parser, "the sr section and seed")
    parser.add_argument("--net", required=True, help="net name in sr.nets, e.g. rlfn or edsr")
    parser.add_argument("--scale", type=int, default=4)
    parser.add_argument("--index", default="results/tiles/index.csv",
                        help="the tile index (for sr.train.lr_source: pyramid, the LR is read from its coarser zoom)")
    parser.add_argument("--gpus", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar, log lines only")


def run(args: argparse.Namespace) -> int:
    from rockzoom.superres.train import train_sr

    config = rc.load_cli_config(args)
    out_dir = args.model_out.rsplit("/", 1)[0] if "/" in args.model_out else "."
    train_sr(args.data_dir, model_out=args.model_out, metrics_csv=f"{out_dir}/metrics.csv",
             curve_png=f"{out_dir}/curve.png", scale=args.scale, net=rc.sr_net(config, args.net),
             train_cfg=rc.sr_train_settings(config, args.net), seed=config["seed"], gpus=args.gpus, index_csv=args.index,
             progress=False if args.no_progress else None)
    return 0
