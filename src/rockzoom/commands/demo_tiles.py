NAME = "demo-tiles"
HELP = "Write the deterministic procedural rock-field demo pyramid (TMS, RGBA)."


def add_arguments(p):
    p.add_argument("out_dir")
    p.add_argument("--tiles-x", type=int, default=32)
    p.add_argument("--tiles-y", type=int, default=24)
    p.add_argument("--zoom", type=int, default=23)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--chunk-tiles", type=int, default=None,
                   help="render in chunks of N x N tiles (bounded memory, for survey-sized trees)")
    p.add_argument("--distinct-chunks", type=int, default=None,
                   help="with --chunk-tiles: render only K chunk fields and reuse them rotated/mirrored (fast big trees)")
    p.add_argument("--workers", type=int, default=1, help="processes rendering chunks")


def run(args) -> int:
    from rockzoom.data.demo import make_demo_pyramid

    make_demo_pyramid(args.out_dir, tiles_x=args.tiles_x, tiles_y=args.tiles_y, zoom=args.zoom, seed=args.seed,
                      chunk_tiles=args.chunk_tiles, workers=args.workers,
                      distinct_chunks=args.distinct_chunks)
    return 0
