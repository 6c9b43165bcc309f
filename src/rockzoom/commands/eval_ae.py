"""`rockzoom eval-ae`: test-split PSNR/SSIM of an autoencoder next to the mean-colour and thumbnail baselines."""
from __future__ import annotations

import argparse


NAME = "eval-ae"
HELP = "evaluate an autoencoder checkpoint on a dataset split against mean-colour and 13x13x3 thumbnail baselines"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="AE checkpoint, e.g. results/ae/vit-s256/model.pt")
    parser.add_argument("--data-dir", required=True, help="dataset folder, e.g. results/data/s256")
    parser.add_argument("--metrics-json", required=True, help="output JSON with the metric table")
    parser.add_argument("--grid-png", required=True, help="output PNG: originals / reconstructions / thumbnails")
    parser.add_argument("--split", default="test", choices=["train", "val", "test"])
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed for the confidence interval")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])


def run(args: argparse.Namespace) -> int:
    from rockzoom.autoencoder.evaluate import eval_autoencoder

    eval_autoencoder(args.model, args.data_dir, args.metrics_json, args.grid_png, split=args.split, seed=args.seed,
                     device=args.device)
    return 0
