NAME = "index"
SCHEMES = ("auto", "tms", "xyz")  # = rockzoom.data.tiles.SCHEMES (kept literal: --help stays fast)
HELP = "Index the tiles of one zoom of a z/x/y tree; write index.csv and rejected.csv."


def add_arguments(p):
    p.add_argument("tile_dir", help="root of the tile tree (holds {zoom}/{x}/{y}.png) or a GeoTIFF orthomosaic")
    p.add_argument("--zoom", type=int, default=23)
    p.add_argument("--scheme", choices=SCHEMES, default="auto")
    p.add_argument("--source", choices=("auto", "tree", "geotiff"), default="auto",
                   help="auto: a file is a GeoTIFF orthomosaic (cut into web-mercator tiles), a folder a tile tree")
    p.add_argument("--max-pixels", type=int, default=1 << 24)
    p.add_argument("--workers", type=int, default=1, help="processes decoding tiles (the files do not depend on it)")
    p.add_argument("--out", default="results/tiles", help="folder for index.csv and rejected.csv")


def run(args) -> int:
    from rockzoom.data.tiles import build_index

    build_index(args.tile_dir, args.zoom, f"{args.out}/index.csv", f"{args.out}/rejected.csv",
                scheme=args.scheme, max_pixels=args.max_pixels, workers=args.workers, source=args.source)
    return 0
