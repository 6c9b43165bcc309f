NAME = "build-dataset"
STRATIFY = ("luminance", "none")  # = rockzoom.data.split.STRATIFY (kept literal: --help stays fast)
HELP = "Assign split blocks (when blocks.csv is missing) and build the arrays of one sample size."


def add_arguments(p):
    p.add_argument("--index", default="results/tiles/index.csv")
    p.add_argument("--blocks", default="results/tiles/blocks.csv")
    p.add_argument("--size", type=int, required=True, help="sample size: 256*2^k (mosaics) or a divisor of 256")
    p.add_argument("--out", help="output folder (default results/data/s{size})")
    p.add_argument("--zoom", type=int, default=23)
    p.add_argument("--block-zoom", type=lambda v: v if v == "auto" else int(v), default=20,
                   help="split block zoom, or auto: fitted so that --size gets a train, val and test split")
    p.add_argument("--fractions", type=float, nargs=3, default=(0.7, 0.15, 0.15), metavar=("TRAIN", "VAL", "TEST"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--min-valid", type=float, default=0.98)
    p.add_argument("--guard-tiles", type=int, default=1)
    p.add_argument("--max-samples", type=int, default=None, help="per split: a seeded draw stratified by block")
    p.add_argument("--workers", type=int, default=1, help="processes filling the arrays (the files do not depend on it)")
    p.add_argument("--stratify", choices=STRATIFY, default="luminance",
                   help="draw val/test blocks across the brightness range (default) or plainly at random")


def run(args) -> int:
    from pathlib import Path

    from rockzoom.data.dataset import build_dataset, make_split

    if not Path(args.blocks).exists():
        make_split(args.index, args.blocks, zoom=args.zoom, block_zoom=args.block_zoom,
                   fractions=dict(zip(("train", "val", "test"), args.fractions)), seed=args.seed,
                   sizes=[args.size], min_valid=args.min_valid, stratify=args.stratify, guard_tiles=args.guard_tiles,
                   needs={args.size: {s: ["build-dataset"] for s in ("train", "val", "test")}})
    build_dataset(args.index, args.blocks, args.out or f"results/data/s{args.size}", size=args.size,
                  min_valid=args.min_valid, guard_tiles=args.guard_tiles, max_samples=args.max_samples,
                  seed=args.seed, workers=args.workers)
    return 0
