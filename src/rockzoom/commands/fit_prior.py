"""`rockzoom fit-prior`: full-covariance Gaussian and BIC-chosen GMM over training latents."""
from __future__ import annotations

import argparse

from rockzoom.config import add_config_argument, load_cli_config

NAME = "fit-prior"
HELP = "fit the latent priors (Gaussian with Ledoit-Wolf covariance; PCA + GMM with k by BIC)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--latents", required=True, help="training latents, e.g. results/latents/vit-s256/train.npy")
    parser.add_argument("--out", required=True, help="prior file, e.g. results/latents/vit-s256/prior.pt")
    parser.add_argument("--summary-json", required=True, help="BIC table and fit summary")
    parser.add_argument("--train-masks", help="the training split's masks (train_masks.npy), in the latents' order: "
                                              "tiles below prior.min_valid are left out")
    add_config_argument(parser, "its prior section and seed")


def run(args: argparse.Namespace) -> int:
    from rockzoom.autoencoder.prior import fit_prior

    config = load_cli_config(args)
    fit_prior(args.latents, args.out, args.summary_json, config["prior"], config["seed"],
              train_masks_path=args.train_masks)
    return 0
