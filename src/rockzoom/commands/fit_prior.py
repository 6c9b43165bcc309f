"""`rockzoom fit-prior`: full-covariance Gaussian and BIC-chosen GMM over training latents."""
from __future__ import annotations

import argparse

from rockzoom.autoencoder.config_file import read_config, section
from rockzoom.autoencoder.prior import fit_prior

NAME = "fit-prior"
HELP = "fit the latent priors (Gaussian with Ledoit-Wolf covariance; PCA + GMM with k by BIC)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--latents", required=True, help="training latents, e.g. results/latents/vit-s256/train.npy")
    parser.add_argument("--out", required=True, help="prior file, e.g. results/latents/vit-s256/prior.pt")
    parser.add_argument("--summary-json", required=True, help="BIC table and fit summary")
    parser.add_argument("--config", required=True, help="rockzoom config file (uses its prior section and seed)")


def run(args: argparse.Namespace) -> int:
    config = read_config(args.config)
    fit_prior(args.latents, args.out, args.summary_json, section(config, "prior", args.config),
              config.get("seed", 0))
    return 0
