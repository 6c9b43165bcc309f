"""Peak memory of `rockzoom upscale` on a PNG over the pixel limit: streamed into a GeoTIFF, in a fresh process.

The input is a size x size RGB PNG (a seeded, smoothed noise texture repeating every 256 px, so a 20000² file is
small on disk), written row by row here in bounded memory unless it exists. Each case runs `rockzoom upscale` in a
child process and prints its wall time, its CPU time and its own peak RSS (VmHWM); ``--whole`` also runs the in-memory path on the
same input (``--max-pixels`` raised: the whole input and output arrays in memory) for the ratio.

    .venv/bin/python benchmarks/bench_large_input.py --work /work/scratch/cli --size 20000 --method bicubic --scale 4
    .venv/bin/python benchmarks/bench_large_input.py --work /work/scratch/cli --size 4200 --net rlfn --scale 4 --whole
"""
from __future__ import annotations

import argparse
import os
import resource
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
CHILD = ("import sys; from rockzoom.cli import main; from rockzoom.util.memory import rss_high_water_bytes; "
         "rc = main(sys.argv[1:]); print('PEAK_RSS', rss_high_water_bytes()); sys.exit(rc)")


def texture_row_block(width: int, seed: int = 0, period: int = 256) -> np.ndarray:
    """One period of rows (period, width, 3) uint8: smoothed seeded noise, tiled across the width."""
    from scipy.ndimage import gaussian_filter

    noise = np.random.default_rng(seed).random((period, period, 3))
    smooth = gaussian_filter(noise, sigma=(2, 2, 0), mode="wrap")
    smooth = (smooth - smooth.min()) / np.ptp(smooth)
    block = np.rint(40 + 170 * smooth).astype(np.uint8)
    return np.tile(block, (1, -(-width // period), 1))[:, :width]


def write_png(path: Path, size: int, seed: int = 0) -> None:
    """A size x size 8-bit RGB PNG, compressed row by row (memory: one 256-row period, not the image)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    block = texture_row_block(size, seed)
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)))
        z = zlib.compressobj(6)
        for y in range(size):
            data = z.compress(b"\0" + block[y % len(block)].tobytes())  # filter type 0 per row
            if data:
                f.write(chunk(b"IDAT", data))
        f.write(chunk(b"IDAT", z.flush()) + chunk(b"IEND", b""))
    os.replace(tmp, path)


def untrained_checkpoint(path: Path, net: str, scale: int) -> Path:
    """A randomly initialised checkpoint of config net ``net`` (time and memory do not depend on the weights)."""
    import torch

    from rockzoom.config import load_config, sr_net
    from rockzoom.models.registry import SR_NETS
    from rockzoom.util.checkpoint import model_checkpoint, save_checkpoint

    torch.manual_seed(0)
    kwargs = {**sr_net(load_config(), net), "scale": scale}
    model = SR_NETS.from_config(dict(kwargs))
    save_checkpoint(path, model_checkpoint(kind="sr", config={}, model_kwargs=kwargs, state_dict=model.state_dict(),
                                           step=0, best_val=None, data_hash=""))
    return path


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_upscale(args: list[str]) -> tuple[float, float, float]:
    """`rockzoom upscale ARGS` in a child process -> (wall seconds, its CPU seconds, its peak RSS in MiB)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(REPO / "src"), os.environ.get("PYTHONPATH"))
                                                       if p)}
    t0, cpu0 = time.perf_counter(), _children_cpu()
    proc = subprocess.run([sys.executable, "-c", CHILD, "upscale", *args], env=env, capture_output=True, text=True)
    seconds, cpu = time.perf_counter() - t0, _children_cpu() - cpu0
    if proc.returncode != 0:
        raise RuntimeError(f"rockzoom upscale {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return seconds, cpu, int(proc.stdout.split("PEAK_RSS")[1].split()[0]) / 2**20


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, required=True, help="folder for the input PNG and the outputs")
    ap.add_argument("--size", type=int, default=20000, help="input side in px (default 20000)")
    source = ap.add_mutually_exclusive_group(required=True)
    source.add_argument("--method", choices=("bicubic", "lanczos"))
    source.add_argument("--model", help="an SR checkpoint")
    source.add_argument("--net", help="an untrained checkpoint of this config net (sr.nets), written to --work")
    ap.add_argument("--scale", type=int, default=4)
    ap.add_argument("--tile", type=int, default=256)
    ap.add_argument("--max-pixels", type=int, default=None,
                    help="the pixel limit of the streamed run (default: tiles.max_pixels); the input must exceed it")
    ap.add_argument("--whole", action="store_true", help="also the in-memory path (--max-pixels raised)")
    ap.add_argument("--keep", action="store_true", help="keep the outputs (default: deleted after measuring)")
    args = ap.parse_args(argv)

    from rockzoom.data.image_files import default_max_pixels

    limit = args.max_pixels or default_max_pixels()
    if args.size ** 2 <= limit:
        ap.error(f"--size {args.size} is within the pixel limit {limit}: nothing would be streamed")
    args.work.mkdir(parents=True, exist_ok=True)
    src = args.work / f"texture{args.size}.png"
    if not src.exists():
        t0 = time.perf_counter()
        write_png(src, args.size)
        print(f"wrote {src} ({src.stat().st_size / 2**20:.1f} MiB) in {time.perf_counter() - t0:.0f} s", flush=True)
    if args.method:
        upscaler, name = ["--method", args.method, "--scale", str(args.scale)], args.method
    else:
        model = Path(args.model) if args.model else untrained_checkpoint(args.work / f"{args.net}-x{args.scale}.pt",
                                                                        args.net, args.scale)
        upscaler, name = ["--model", str(model), "--device", "cpu"], args.model or f"{args.net} (untrained weights)"
    common = [*upscaler, "--tile", str(args.tile)]
    cases = {"streamed (GeoTIFF output)": [str(src), str(args.work / "streamed.tif"), *common,
                                           "--max-pixels", str(limit)]}
    if args.whole:
        cases["in memory (--max-pixels raised)"] = [str(src), str(args.work / "whole.tif"), *common,
                                                    "--max-pixels", str(args.size ** 2)]
    out_side = args.size * args.scale
    print(f"input {args.size}x{args.size} PNG ({args.size ** 2 / 1e6:.0f} Mpx) -> {out_side}x{out_side} "
          f"(uint8 RGB output {out_side ** 2 * 3 / 2**30:.2f} GiB), {name} x{args.scale}, tile {args.tile}, "
          f"{os.cpu_count()} CPUs")
    print(f"load average at the start: {os.getloadavg()[0]:.1f}")
    print("| path | wall (s) | CPU (s) | peak RSS (MiB) | output on disk (MiB) |\n|---|---|---|---|---|", flush=True)
    peaks = {}
    for label, cmd in cases.items():
        seconds, cpu, peaks[label] = run_upscale(cmd)
        out = Path(cmd[1])
        print(f"| {label} | {seconds:.0f} | {cpu:.0f} | {peaks[label]:.0f} | {out.stat().st_size / 2**20:.0f} |",
              flush=True)
        if not args.keep:
            out.unlink()
    if len(peaks) == 2:
        a, b = peaks.values()
        print(f"peak RSS streamed / in memory: {a / b:.2f} (n = 1 run each)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
