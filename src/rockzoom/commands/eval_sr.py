"""`rockzoom eval-sr`: bicubic, Lanczos and trained SR checkpoints through one evaluator on the test split."""
from __future__ import annotations

import argparse


NAME = "eval-sr"
HELP = "evaluate upscalers on the test split of an HR dataset folder: PSNR RGB/Y, SSIM, texture, speed, memory"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", required=True, help="HR dataset folder, e.g. results/data/s256")
    parser.add_argument("--scale", type=int, required=True)
    parser.add_argument("--models", nargs="*", default=[], help="SR checkpoints (sr or sr_gan)")
    parser.add_argument("--table", required=True, help="CSV to write, one row per method")
    parser.add_argument("--crops", required=True, help="PNG of side-by-side crops to write")
    parser.add_argument("--max-images", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--lr-sources", nargs="+", default=["bicubic"], choices=["bicubic", "pyramid"],
                        help="LR kinds to evaluate on (pyramid: the tree's coarser zoom, needs --index)")
    parser.add_argument("--index", default="results/tiles/index.csv", help="the tile index (for --lr-sources pyramid)")
    parser.add_argument("--self-ensemble", action="store_true", help="also evaluate each net with its x8 self-ensemble")


def run(args: argparse.Namespace) -> int:
    from rockzoom.superres.evaluate import eval_sr

    table = eval_sr(args.data_dir, scale=args.scale, models=args.models, table_csv=args.table, crops_png=args.crops,
                    max_images=args.max_images, seed=args.seed, device=args.device,
                    lr_sources=tuple(args.lr_sources), index_csv=args.index, self_ensemble=args.self_ensemble)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return 0
