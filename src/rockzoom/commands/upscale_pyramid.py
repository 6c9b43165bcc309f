NAME = "upscale-pyramid"
HELP = "Write zoom z+log2(scale) tiles from the zoom-z tiles of a tree, seam-free, keeping no-data."


def add_arguments(p):
    p.add_argument("tile_dir")
    p.add_argument("out_dir")
    p.add_argument("--zoom", type=int, default=23)
    p.add_argument("--scheme", choices=("auto", "tms", "xyz"), default="auto")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--model", help="a trained SR checkpoint (results/sr/.../model.pt)")
    group.add_argument("--method", choices=("bicubic", "lanczos"))
    p.add_argument("--scale", type=int, default=4, help="for --method (a model knows its own scale)")
    p.add_argument("--context", type=int, default=16, help="pixels of neighbour context around each tile")
    p.add_argument("--device", default="auto")
    p.add_argument("--self-ensemble", action="store_true",
                   help="with --model: average the net over the 8 flips/rotations of each input (8x time)")
    p.add_argument("--batch-size", type=int, default=8, help="context canvases per upscaler call")
    p.add_argument("--workers", type=int, default=1, help="processes running shards (the tiles do not depend on it)")
    p.add_argument("--index", default=None, metavar="INDEX_CSV",
                   help="the tiles to upscale from this index.csv (`rockzoom index`, the workflow's "
                        "results/tiles/index.csv); by default they are listed from the tree's file names. Either "
                        "way only the tiles upscaled and their one-tile border are decoded")
    p.add_argument("--max-tiles", type=int, default=None,
                   help="only the first N tiles in (x, y) order (listed from names, a tile that does not decode is "
                        "skipped, so fewer may be upscaled; with --index, the first N indexed tiles)")
    p.add_argument("--shard-tiles", type=int, default=16, help="input tiles per shard side (memory ~ (N+2)^2 tiles)")


def run(args) -> int:
    from rockzoom.generation.pyramid import upscale_pyramid
    from rockzoom.superres.upscale import build_upscaler

    upscaler = build_upscaler(method=args.method, checkpoint=args.model, self_ensemble=args.self_ensemble,
                              scale=None if args.model else args.scale, device=args.device)
    info = upscale_pyramid(args.tile_dir, args.out_dir, upscaler, zoom=args.zoom, scheme=args.scheme,
                           context=args.context, batch_size=args.batch_size, shard_tiles=args.shard_tiles,
                           workers=args.workers, max_tiles=args.max_tiles,
                           index_csv=args.index)
    print(info)
    return 0
