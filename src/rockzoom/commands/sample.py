"""`rockzoom sample`: decode seeded latent samples (gaussian, gmm, slerp, perturb) and check them."""
from __future__ import annotations

import argparse

from rockzoom.autoencoder import SAMPLERS
from rockzoom.config import add_config_argument, load_cli_config

NAME = "sample"
HELP = "sample latents from a fitted prior, decode them, and write images, a grid and a checks JSON"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="AE checkpoint")
    parser.add_argument("--prior", required=True, help="prior file from fit-prior")
    parser.add_argument("--latents-dir", required=True, help="folder with test.npy latents (memorisation check)")
    parser.add_argument("--sampler", required=True, choices=SAMPLERS)
    parser.add_argument("--out-prefix", required=True, help="writes PREFIX.npy, PREFIX.png and PREFIX.json")
    add_config_argument(parser, "its sample section and seed")
    parser.add_argument("--seed", type=int, default=None, help="override the config's seed")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])


def run(args: argparse.Namespace) -> int:
    from rockzoom.autoencoder.sampling import generate_samples

    config = load_cli_config(args)
    seed = config["seed"] if args.seed is None else args.seed
    p = args.out_prefix
    settings = {k: v for k, v in config["sample"].items() if k != "samplers"}
    generate_samples(args.model, args.prior, args.latents_dir, args.sampler, settings, seed,
                     f"{p}.npy", f"{p}.png", f"{p}.json", device=args.device)
    return 0
