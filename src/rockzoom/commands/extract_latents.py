"""`rockzoom extract-latents`: encode the train/val/test splits with a trained autoencoder."""
from __future__ import annotations

import argparse


NAME = "extract-latents"
HELP = "encode every split of a dataset folder to {out}/{train,val,test}.npy latents"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="AE checkpoint")
    parser.add_argument("--data-dir", required=True, help="dataset folder, e.g. results/data/s256")
    parser.add_argument("--out-dir", required=True, help="e.g. results/latents/vit-s256")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])


def run(args: argparse.Namespace) -> int:
    from rockzoom.autoencoder.latents import extract_latents

    extract_latents(args.model, args.data_dir, args.out_dir, device=args.device)
    return 0
