"""Peak memory of the generating stages at growing numbers of training tiles (issue 32: it must not grow with the tree).

    python benchmarks/bench_memory.py [--tiles 100 1000] [--stages banks detail scene] [--samples 2]
                                      [--scene-samples 2] [--work /work/scratch/bench_memory]

For each N, a dataset folder of N synthetic 256 px training tiles (procedural rock fields of rockzoom.data.demo,
each 1024 px field cut into 16 tiles and used in its 8 flips / quarter turns, so N / 128 fields are rendered; laid
out row by row on a near-square grid of the survey, ``train_samples.csv``) and a few held-out tiles is written
under --work. Then each stage runs in its own fresh process (glibc's mmap threshold fixed first, as the rule
scripts do: ``util.memory.return_large_buffers``) and reports that process's peak RSS (VmHWM):
- banks: ``build_patch_banks`` with config/config.yaml's ``detail.banks`` from the N training tiles;
- detail: those banks loaded and ``add_detail`` with ``detail.synthesis`` on --samples starts (the 1/8 view of
  held-out tiles, bicubic back to 256 px: the layout an AE sample gives);
- scene: the scene generator, the default start of the options: ``fit_scene_model`` (``scene.stage.fit_from_dataset``
  with config/config.yaml's ``scene.fit`` and the sizes the options and the realism table need, as the rule
  fit_scene_model) on the N training tiles, then --scene-samples 256 px scenes drawn from the saved model
  (``scene.stage.scene_samples`` with ``scene.synthesis``, ``max_piece``, ``attempts``, as the rule sample_scenes);
  its peak after the fit is reported too (``scene fit``);
- import: the same imports and nothing else (the floor every stage shares).
Prints the peaks, the ratio largest N / smallest N per stage (measured in this one run), and the ``mem_mb`` the
workflow declares for the stage (``rockzoom.texture.memory.banks_mem_mb`` / ``detail_mem_mb``,
``rockzoom.scene.settings.scene_memory_mb`` of the fit and of 256 px scenes).
"""
from __future__ import annotations

import argparse
import csv
import json
import math
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


def write_positions(data: Path, n: int, zoom: int = 23) -> None:
    """train_samples.csv: tile i at row i // cols, column i % cols of a near-square grid (the scene stage's ground)."""
    cols = math.ceil(math.sqrt(n))
    with (data / "train_samples.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["z", "x", "y", "offset_x", "offset_y", "size", "block", "valid_fraction"])
        for i in range(n):
            w.writerow([zoom, i % cols, i // cols, 0, 0, SIZE, "0_0", "1.000000"])


def write_data(data: Path, n: int, held: int = 8) -> None:
    from rockzoom.data.store import save_split

    if not ((data / "train_images.npy").exists() and len(np.load(data / "train_images.npy", mmap_mode="r")) == n):
        train = _tiles(n, seed=1)
        save_split(data, "train", train[..., :3], train[..., 3] > 0)
        test = _tiles(held, seed=2)
        save_split(data, "test", test[..., :3], test[..., 3] > 0)
    write_positions(data, n)


def stage(name: str, data: Path, banks_path: Path, samples: int, scene_samples: int) -> dict:
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
    elif name == "scene":
        from rockzoom.config.resolve import scene_draw_param, scene_fit_param
        from rockzoom.scene.stage import fit_from_dataset
        from rockzoom.scene.stage import scene_samples as draw_scenes

        model_path = data / "scene-model.pt"
        model = fit_from_dataset(data, model_path, seed=config["seed"], **scene_fit_param(config))
        out.update(windows=model.info["windows"], sun_images=model.sun["n_images"], fit_peak_mb=_rss_mb())
        del model
        images, records = draw_scenes(model_path, scene_samples, SIZE, seed=config["seed"],
                                      **scene_draw_param(config))
        out.update(checksum=int(images.astype(np.int64).sum()), draws=[r["draws"] for r in records])
    out["peak_mb"] = _rss_mb()
    return out


def run_stage(name: str, data: Path, banks_path: Path, samples: int, scene_samples: int) -> dict:
    cmd = [sys.executable, __file__, "--stage", name, "--data", str(data), "--banks", str(banks_path),
           "--samples", str(samples), "--scene-samples", str(scene_samples)]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode:
        raise RuntimeError(f"{name} on {data} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


STAGES = ("banks", "detail", "scene")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tiles", type=int, nargs="+", default=[100, 1000], help="training tile counts")
    p.add_argument("--stages", nargs="+", choices=STAGES, default=list(STAGES),
                   help="stages to measure (detail needs banks of the same N)")
    p.add_argument("--samples", type=int, default=2, help="256 px samples through the detail stage")
    p.add_argument("--scene-samples", type=int, default=2, help="256 px scenes drawn by the scene stage")
    p.add_argument("--work", type=Path, default=Path("/work/scratch/bench_memory"))
    p.add_argument("--stage", choices=["import", *STAGES], help=argparse.SUPPRESS)
    p.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--banks", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.stage:
        from rockzoom.util.memory import return_large_buffers

        return_large_buffers()  # as the rule scripts do first
        if args.stage == "import":
            import rockzoom.scene.stage
            import rockzoom.texture.stage  # noqa: F401
            from rockzoom.config import load_config

            print(json.dumps({"stage": "import", "peak_mb": _rss_mb()}))
        else:
            print(json.dumps(stage(args.stage, args.data, args.banks, args.samples, args.scene_samples)))
        return 0

    from rockzoom.config import load_config
    from rockzoom.config.resolve import scene_fit_param
    from rockzoom.scene.settings import scene_memory_mb
    from rockzoom.texture.memory import banks_mem_mb, detail_mem_mb

    config = load_config()
    fit = scene_fit_param(config)
    declared = {"banks": banks_mem_mb(config["detail"], SIZE), "detail": detail_mem_mb(config["detail"], SIZE),
                "scene fit": scene_memory_mb(0, fit),
                "scene": scene_memory_mb(SIZE, fit, config["scene"]["synthesis"])}
    stages = [s for s in STAGES if s in args.stages]
    if "detail" in stages and "banks" not in stages:
        p.error("--stages detail needs banks (the detail stage loads the banks of the same N)")
    rows = {}
    for n in args.tiles:
        data = args.work / f"n{n}"
        write_data(data, n)
        banks_path = data / "banks.pt"
        rows[n] = {s: run_stage(s, data, banks_path, args.samples, args.scene_samples) for s in ("import", *stages)}
        if "scene" in stages:
            rows[n]["scene fit"] = {"peak_mb": rows[n]["scene"]["fit_peak_mb"]}
    columns = [c for s in stages for c in ((["scene fit"] if s == "scene" else []) + [s])]
    floor = rows[args.tiles[0]]["import"]["peak_mb"]
    print(f"peak RSS (MiB) of each stage in a fresh process; {SIZE} px tiles, detail on {args.samples} samples, "
          f"{args.scene_samples} scenes of {SIZE} px; the import floor is {floor:.0f} MiB; defaults of "
          f"config/config.yaml")
    print(f"{'training tiles':>15} " + " ".join(f"{c:>10}" for c in columns) + "   what the caps kept")
    for n in args.tiles:
        kept = []
        if "banks" in stages:
            b = rows[n]["banks"]
            kept.append(f"banks: rows per level {b['bank_rows'][0]}..{b['bank_rows'][-1]}, bank images "
                        f"{b['bank_images']}, colour tiles {b['colour_tiles']}")
        if "scene" in stages:
            sc = rows[n]["scene"]
            kept.append(f"scene: windows per side {sc['windows']}, sun images {sc['sun_images']}, "
                        f"draws {sc['draws']}")
        print(f"{n:>15} " + " ".join(f"{rows[n][c]['peak_mb']:>10.0f}" for c in columns) + "   " + "; ".join(kept))
    lo, hi = args.tiles[0], args.tiles[-1]
    for c in columns:
        ratio = rows[hi][c]["peak_mb"] / rows[lo][c]["peak_mb"]
        print(f"{c}: peak at {hi} / at {lo} training tiles = {ratio:.2f}x (n = 1 run each); "
              f"declared mem_mb {declared[c]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
