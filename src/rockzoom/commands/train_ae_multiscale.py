"""`rockzoom train-ae-multiscale`: train (or resume) a multi-scale autoencoder (ae_variants.multiscale.<name>)."""
from __future__ import annotations

import argparse

import rockzoom.config as rc

NAME = "train-ae-multiscale"
HELP = "train or resume a multi-scale autoencoder on results/data/s{S} (state kept in <out dir>.state/)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", required=True, help="dataset folder, e.g. results/data/s512")
    parser.add_argument("--model-out", required=True, help="e.g. results/ae/multiscale-s512/model.pt")
    rc.add_config_argument(parser, "ae_variants.multiscale and seed")
    parser.add_argument("--name", default="multiscale", help="model name in ae_variants.multiscale")
    parser.add_argument("--seed", type=int, default=None, help="override the config's seed")
    parser.add_argument("--gpus", type=int, default=0, help="0 = CPU, 1 = one locked GPU slot")


def run(args: argparse.Namespace) -> int:
    from rockzoom.autoencoder.multiscale import train_multiscale

    config = rc.load_cli_config(args)
    seed = config["seed"] if args.seed is None else args.seed
    train_multiscale(args.data_dir, args.model_out, rc.multiscale(config, args.name), seed, gpus=args.gpus)
    return 0
