"""`rockzoom inspect DIR`: what a tile tree holds, the split the auto-fit would choose, the targets it can run."""
from __future__ import annotations

import argparse

NAME = "inspect"
HELP = ("summarise a tile tree: zoom levels, scheme, extent, coverage map, histograms, complete mosaics, the "
        "auto-fitted split and the targets it can run")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from rockzoom.config import add_config_argument

    parser.add_argument("tile_dir", help="root of the tile tree (holds {zoom}/{x}/{y}.png)")
    parser.add_argument("--zoom", type=int, default=None, help="tile zoom (default: tiles.zoom of the config)")
    parser.add_argument("--scheme", choices=("auto", "tms", "xyz"), default=None,
                        help="row scheme (default: tiles.scheme of the config)")
    parser.add_argument("--out", default="results/inspect", help="folder for coverage.png, histograms.png, summary.*")
    parser.add_argument("--write-config", metavar="FILE", help="write a starting config overlay for this tree")
    add_config_argument(parser, "tiles, dataset, split and the targets")


def run(args: argparse.Namespace) -> int:
    import logging
    import sys

    from rockzoom.config import load_cli_config
    from rockzoom.data.inspection import inspect_with_config, starting_config, write_inspection, write_starting_config
    from rockzoom.data.tiles import index_tiles

    cfg = load_cli_config(args)
    cfg["tiles"]["dir"] = args.tile_dir
    if args.zoom is not None:
        cfg["tiles"]["zoom"] = args.zoom
    if args.scheme is not None:
        cfg["tiles"]["scheme"] = args.scheme
    t = cfg["tiles"]
    records, rejected = index_tiles(args.tile_dir, t["zoom"], scheme=t["scheme"], max_pixels=t["max_pixels"])
    ins = inspect_with_config(args.tile_dir, cfg, records, rejected)
    files = write_inspection(ins, args.out)
    sys.stdout.write(ins.text() + "\n")
    log = logging.getLogger(__name__)
    log.info(f"wrote {', '.join(str(p) for p in files.values())}")
    if args.write_config:
        overlay, runs = starting_config(cfg, records, args.tile_dir)
        write_starting_config(args.write_config, overlay, runs)
        log.info(f"wrote {args.write_config}: dataset.sizes {overlay['dataset']['sizes']}, dataset.min_valid "
                 f"{overlay['dataset']['min_valid']}; runs {', '.join(k for k, v in runs.items() if v is None)}")
    return 0
