"""`rockzoom train-ae`: train (or resume) the ViT autoencoder on a dataset folder."""
from __future__ import annotations

import argparse
import json

import rockzoom.config as rc

NAME = "train-ae"
HELP = "train or resume the ViT autoencoder on results/data/s{S} (state kept in <out dir>.state/)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", required=True, help="dataset folder, e.g. results/data/s256")
    parser.add_argument("--model-out", required=True, help="checkpoint to write, e.g. results/ae/vit-s256/model.pt")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--config", nargs="+", metavar="FILE",
                        help="rockzoom config files layered over the defaults (config/config.yaml), later wins; "
                             "uses ae.archs[--arch] and seed")
    source.add_argument("--arch-json", help="JSON {seed, arch: <arch settings>} (written by the DDP launcher)")
    parser.add_argument("--arch", default=None, help="arch name in ae.archs (default: ae.arch)")
    parser.add_argument("--seed", type=int, default=None, help="override the config's seed")
    parser.add_argument("--gpus", type=int, default=0, help="GPUs to use; >1 launches DDP through torchrun")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar, log lines only")


def run(args: argparse.Namespace) -> int:
    from rockzoom.autoencoder.train import train_autoencoder

    if args.arch_json:
        spec = json.loads(open(args.arch_json).read())
        arch_cfg, seed = spec["arch"], spec["seed"]
    else:
        config = rc.load_cli_config(args)
        arch_cfg, seed = rc.ae_arch(config, args.arch), config["seed"]
    if args.seed is not None:
        seed = args.seed
    train_autoencoder(args.data_dir, args.model_out, arch_cfg, seed, gpus=args.gpus,
                      progress=False if args.no_progress else None)
    return 0
