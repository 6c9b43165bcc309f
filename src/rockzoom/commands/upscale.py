"""`rockzoom upscale IN... OUT --model CKPT | --method lanczos`: upscale image files and GeoTIFFs, tiled and seam-free."""
from __future__ import annotations

import argparse
import json

NAME = "upscale"
HELP = ("upscale image files (PNG/JPEG/TIFF, alpha kept) or GeoTIFF orthomosaics (CRS, scaled geotransform and "
        "no-data kept; windowed) with a trained SR model or a classical method; the model is loaded once")
METHODS = ("bicubic", "lanczos")  # = sorted(rockzoom.superres.upscale.CLASSICAL_METHODS) (literal: fast --help)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="INPUT",
                        help="image files, folders (their image files) or quoted globs ('ortho/*.tif')")
    parser.add_argument("output", metavar="OUTPUT",
                        help="output file (one input; its extension picks the format) or output folder (same names)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", help="SR checkpoint (results/sr/<net>-x<k>-h<H>/model.pt)")
    source.add_argument("--method", choices=METHODS, help="classical resampling filter")
    parser.add_argument("--scale", type=int, default=None, help="upscaling factor (required with --method)")
    parser.add_argument("--tile", type=int, default=256, help="input tile size; bounds the memory (default 256)")
    parser.add_argument("--overlap", type=int, default=16, help="context pixels around each tile (default 16)")
    parser.add_argument("--cog", action="store_true", help="write TIFF outputs as Cloud-Optimized GeoTIFFs")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--self-ensemble", action="store_true",
                        help="with --model: average the net over the 8 flips/rotations of each input (8x time)")


def run(args: argparse.Namespace) -> int:
    from rockzoom.superres.batch import plan_outputs, upscale_many
    from rockzoom.superres.upscale import build_upscaler

    if args.method and args.scale is None:
        raise SystemExit("rockzoom upscale: --method needs --scale")
    pairs = plan_outputs(args.inputs, args.output)  # before the model loads: a bad path fails at once
    upscaler = build_upscaler(method=args.method, checkpoint=args.model, scale=args.scale, device=args.device,
                              self_ensemble=args.self_ensemble)
    for info in upscale_many(pairs, upscaler, tile=args.tile, overlap=args.overlap, cog=args.cog):
        print(json.dumps(info))
    return 0
