"""`rockzoom refine IN OUT_DIR --model CKPT`: diffusion-refine upscaled images (a file or a folder), seam-free."""
from __future__ import annotations

import argparse
import json


NAME = "refine"
HELP = "refine upscaled images with a trained diffusion refiner (DDIM, eta 0, seeded, overlapping patches)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", help="an image file or a folder of images (PNG/JPEG/TIFF, alpha kept)")
    parser.add_argument("out_dir", help="folder for the refined images (same file names)")
    parser.add_argument("--model", required=True, help="refiner checkpoint (results/refiner/<up>-x<k>-h<H>/model.pt)")
    parser.add_argument("--steps", type=int, default=8, help="DDIM steps (default 8)")
    parser.add_argument("--eta", type=float, default=0.0, help="DDIM eta (0 = deterministic given the seed)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--patch", type=int, default=128, help="network window in px (default 128)")
    parser.add_argument("--overlap", type=int, default=32, help="overlap of neighbouring windows (default 32)")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])


def run(args: argparse.Namespace) -> int:
    from rockzoom.refiner.stage import refine_images

    info = refine_images(args.input, args.out_dir, model=args.model, steps=args.steps, seed=args.seed, eta=args.eta,
                         patch=args.patch, overlap=args.overlap, device=args.device,
                         provenance=f"{args.out_dir}/provenance.json")
    print(json.dumps({k: v for k, v in info.items() if k != "machine"}))
    return 0
