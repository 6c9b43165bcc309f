NAME = "demo-tiles"
HELP = "Write the deterministic procedural rock-field demo pyramid (TMS, RGBA)."


def add_arguments(p):
    p.add_argument("out_dir")
    p.add_argument("--tiles-x", type=int, default=32)
    p.add_argument("--tiles-y", type=int, default=24)
    p.add_argument("--zoom", type=int, default=23)
    p.add_argument("--seed", type=int, default=0)


def run(args) -> int:
    from rockzoom.data.demo import make_demo_pyramid

    make_demo_pyramid(args.out_dir, tiles_x=args.tiles_x, tiles_y=args.tiles_y, zoom=args.zoom, seed=args.seed)
    return 0
