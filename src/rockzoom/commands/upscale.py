"""`rockzoom upscale IN... OUT --model CKPT | --method lanczos`: upscale image files and GeoTIFFs, tiled and seam-free."""
from __future__ import annotations

import argparse
import json

NAME = "upscale"
HELP = ("upscale image files (PNG/JPEG/TIFF, alpha kept) or GeoTIFF orthomosaics (CRS, scaled geotransform and "
        "no-data kept; windowed) with a trained SR model or a classical method; the model is loaded once")
METHODS = ("bicubic", "lanczos")  # = sorted(rockzoom.superres.upscale.CLASSICAL_METHODS) (literal: fast --help)
MAX_PIXELS = 16777216  # = tiles.max_pixels of the packaged defaults, read at run time (literal: for --help only)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="INPUT",
                        help="image files, folders (their image files) or quoted globs ('ortho/*.tif')")
    parser.add_argument("output", metavar="OUTPUT",
                        help="output file (one input; its extension picks the format) or output folder (same names)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", help="SR checkpoint: results/sr/<net>-x<k>-h<H>/model.pt (psnr kind) or "
                                        "results/sr_perceptual/<net>-x<k>-h<H>/model.pt (perceptual kind: texture)")
    source.add_argument("--method", choices=METHODS, help="classical resampling filter")
    parser.add_argument("--scale", type=int, default=None, help="upscaling factor (required with --method)")
    parser.add_argument("--tile", type=int, default=256, help="input tile size; bounds the memory (default 256)")
    parser.add_argument("--overlap", type=int, default=16, help="context pixels around each tile (default 16)")
    parser.add_argument("--cog", action="store_true", help="write TIFF outputs as Cloud-Optimized GeoTIFFs")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--self-ensemble", action="store_true",
                        help="with --model: average the net over the 8 flips/rotations of each input (8x time)")
    parser.add_argument("--back-project", action="store_true",
                        help="exact LR consistency: correct each output so that its x scale box average equals the "
                             "input")
    parser.add_argument("--max-pixels", type=int, default=None, metavar="N",
                        help=f"pixel limit of an input read whole (default: tiles.max_pixels, {MAX_PIXELS}); a larger "
                             "image is streamed into a .tif output and refused for a PNG/JPEG output")
    parser.add_argument("--fail-fast", action="store_true",
                        help="stop at the first input that cannot be upscaled (default: name it, go on with the "
                             "rest, exit 2 at the end)")


def run(args: argparse.Namespace) -> int:
    import logging

    from rockzoom.cli import is_user_error
    from rockzoom.superres.batch import plan_outputs, upscale_one
    from rockzoom.superres.upscale import build_upscaler

    if args.method and args.scale is None:
        raise SystemExit("rockzoom upscale: --method needs --scale")
    pairs = plan_outputs(args.inputs, args.output)  # before the model loads: a bad path fails at once
    upscaler = build_upscaler(method=args.method, checkpoint=args.model, scale=args.scale, device=args.device,
                              self_ensemble=args.self_ensemble, back_project=args.back_project)
    log = logging.getLogger(__name__)
    keep_going = len(pairs) > 1 and not args.fail_fast
    failed = 0
    for i, (src, dst) in enumerate(pairs, 1):
        try:
            info = upscale_one(src, dst, upscaler, tile=args.tile, overlap=args.overlap, cog=args.cog,
                               max_pixels=args.max_pixels)
        except (FileNotFoundError, ValueError) as exc:
            if not (keep_going and is_user_error(exc)):
                raise
            failed += 1
            reason = str(exc).removeprefix(f"{src}: ")
            log.error(f"[{i}/{len(pairs)}] failed {src}: {reason}")
            continue
        print(json.dumps(info), flush=True)
        log.info(f"[{i}/{len(pairs)}] {src} -> {dst}")
    if failed:
        raise ValueError(f"{failed} of {len(pairs)} inputs failed (each named above); the other "
                         f"{len(pairs) - failed} were written")
    return 0
