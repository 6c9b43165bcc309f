"""`rockzoom upscale IN OUT --model CKPT | --method lanczos`: upscale any image file, tiled and seam-free."""
from __future__ import annotations

import argparse
import json

from rockzoom.superres.upscale import CLASSICAL_METHODS, build_upscaler, upscale_file

NAME = "upscale"
HELP = "upscale an image file (PNG/JPEG/TIFF, alpha kept) with a trained SR model or a classical method"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", help="input image (.png, .jpg, .tif)")
    parser.add_argument("output", help="output image; its extension picks the format")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", help="SR checkpoint (results/sr/<net>-x<k>-h<H>/model.pt)")
    source.add_argument("--method", choices=sorted(CLASSICAL_METHODS), help="classical resampling filter")
    parser.add_argument("--scale", type=int, default=None, help="upscaling factor (required with --method)")
    parser.add_argument("--tile", type=int, default=256, help="input tile size; bounds the memory (default 256)")
    parser.add_argument("--overlap", type=int, default=16, help="context pixels around each tile (default 16)")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])


def run(args: argparse.Namespace) -> int:
    if args.method and args.scale is None:
        raise SystemExit("rockzoom upscale: --method needs --scale")
    upscaler = build_upscaler(method=args.method, checkpoint=args.model, scale=args.scale, device=args.device)
    info = upscale_file(args.input, args.output, upscaler, tile=args.tile, overlap=args.overlap)
    print(json.dumps(info))
    return 0
