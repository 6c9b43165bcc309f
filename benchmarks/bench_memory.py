"""Peak memory of the detail stage at growing numbers of training tiles (issue 32: it must not grow with the tree).

    python benchmarks/bench_memory.py [--tiles 100 1000] [--samples 2] [--work /work/scratch/bench_memory]

For each N, a dataset folder of N synthetic 256 px training tiles (procedural rock fields of rockzoom.data.demo,
each 1024 px field cut into 16 tiles and used in its 8 flips / quarter turns, so N / 128 fields are rendered) and
a few held-out tiles is written under --work. Then each stage runs in its own fresh process and reports that
process's peak RSS (VmHWM):
- banks: ``build_patch_banks`` with config/config.yaml's ``detail.banks`` from the N training tiles;
- detail: those banks loaded and ``add_detail`` with ``detail.synthesis`` on --samples starts (the 1/8 view of
  held-out tiles, bicubic back to 256 px: the layout an AE sample gives);
- import: the same imports and nothing else (the floor every stage shares).
Prints the peaks, the ratio largest N / smallest N per stage (measured in this one run), and the ``mem_mb`` the
workflow declares for the stage (``rockzoom.texture.memory.banks_mem_mb`` / ``detail_mem_mb``).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

SIZE = 256


def _rss_mb() -> float:
    """This process's RSS high-water mark (VmHWM, reset by exec; ru_maxrss is not: on Linux it starts from the
    forking parent's peak, so it would count the training tiles this script's parent rendered)."""
    from rockzoom.util.memory import rss_high_water_bytes

    return rss_high_water_bytes() / 2**20


def _tiles(n: int, seed: int) -> np.ndarray:
    """n uint8 (SIZE, SIZE, 4) tiles: 16 per rendered field, each in its 8 orientations."""
    from rockzoom.data.demo import render_field

    out, field = [], 0
    while len(out) < n:
        f = render_field(4 * SIZE, 4 * SIZE, seed=[seed, field])
        field += 1
        for y in range(0, 4 * SIZE, SIZE):
            for x in range(0, 4 * SIZE, SIZE):
                t = f[y:y + SIZE, x:x + SIZE]
                for k in range(8):
                    r = np.rot90(t, k % 4)
                    out.append(np.ascontiguousarray(r[:, ::-1] if k >= 4 else r))
    return np.stack(out[:n])


def write_data(data: Path, n: int, held: int = 8) -> None:
    from rockzoom.data.store import save_split

    if (data / "train_images.npy").exists() and len(np.load(data / "train_images.npy", mmap_mode="r")) == n:
        return
    train = _tiles(n, seed=1)
    save_split(data, "train", train[..., :3], train[..., 3] > 0)
    test = _tiles(held, seed=2)
    save_split(data, "test", test[..., :3], test[..., 3] > 0)


def stage(name: str, data: Path, banks_path: Path, samples: int) -> dict:
    """One stage in this process -> its peak RSS and what it made."""
    from PIL import Image

    from rockzoom.config import load_config
    from rockzoom.data.store import load_split
    from rockzoom.texture.patch_synthesis import PatchBanks
    from rockzoom.texture.stage import add_detail, build_patch_banks

    config = load_config()
    out: dict = {"stage": name}
    if name == "banks":
        banks = build_patch_banks(data, banks_path, seed=config["seed"], **config["detail"]["banks"])
        out.update(bank_rows=[len(v) for v in banks.values], bank_images=banks.info["n_bank_images"],
                   colour_tiles=len(banks.colour_views))
    elif name == "detail":
        test = load_split(data, "test").images
        starts = []
        for i in range(samples):
            small = Image.fromarray(np.asarray(test[i % len(test)])).resize((SIZE // 8, SIZE // 8), Image.BOX)
            starts.append(np.asarray(small.resize((SIZE, SIZE), Image.BICUBIC)))
        images = add_detail(np.stack(starts), PatchBanks.load(banks_path), seed=config["seed"],
                            synthesis=config["detail"]["synthesis"])
        out["checksum"] = int(images.astype(np.int64).sum())
    out["peak_mb"] = _rss_mb()
    return out


def run_stage(name: str, data: Path, banks_path: Path, samples: int) -> dict:
    cmd = [sys.executable, __file__, "--stage", name, "--data", str(data), "--banks", str(banks_path),
           "--samples", str(samples)]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode:
        raise RuntimeError(f"{name} on {data} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tiles", type=int, nargs="+", default=[100, 1000], help="training tile counts")
    p.add_argument("--samples", type=int, default=2, help="256 px samples through the detail stage")
    p.add_argument("--work", type=Path, default=Path("/work/scratch/bench_memory"))
    p.add_argument("--stage", choices=["import", "banks", "detail"], help=argparse.SUPPRESS)
    p.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--banks", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.stage:
        if args.stage == "import":
            import rockzoom.texture.stage  # noqa: F401
            from rockzoom.config import load_config  # noqa: F401

            print(json.dumps({"stage": "import", "peak_mb": _rss_mb()}))
        else:
            print(json.dumps(stage(args.stage, args.data, args.banks, args.samples)))
        return 0

    from rockzoom.config import load_config
    from rockzoom.texture.memory import banks_mem_mb, detail_mem_mb

    config = load_config()
    declared = {"banks": banks_mem_mb(config["detail"], SIZE), "detail": detail_mem_mb(config["detail"], SIZE)}
    rows = {}
    for n in args.tiles:
        data = args.work / f"n{n}"
        write_data(data, n)
        banks_path = data / "banks.pt"
        rows[n] = {s: run_stage(s, data, banks_path, args.samples) for s in ("import", "banks", "detail")}
    floor = rows[args.tiles[0]]["import"]["peak_mb"]
    print(f"peak RSS (MiB) of each stage in a fresh process; {SIZE} px tiles, detail on {args.samples} samples; "
          f"the import floor is {floor:.0f} MiB; defaults of config/config.yaml")
    print(f"{'training tiles':>15} {'banks':>8} {'detail':>8}   bank rows per level / bank images / colour tiles")
    for n in args.tiles:
        b = rows[n]["banks"]
        print(f"{n:>15} {b['peak_mb']:>8.0f} {rows[n]['detail']['peak_mb']:>8.0f}   "
              f"{b['bank_rows'][0]}..{b['bank_rows'][-1]} / {b['bank_images']} / {b['colour_tiles']}")
    lo, hi = args.tiles[0], args.tiles[-1]
    for s in ("banks", "detail"):
        ratio = rows[hi][s]["peak_mb"] / rows[lo][s]["peak_mb"]
        print(f"{s}: peak at {hi} / at {lo} training tiles = {ratio:.2f}x (n = 1 run each); "
              f"declared mem_mb {declared[s]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
