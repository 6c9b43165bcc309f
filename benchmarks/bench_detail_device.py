"""Time per sample of option_a's image path (detail stage 256 px, then learned SR x4 -> 1024 px) on a device.

The patch banks are built from the real s256 train split with config/config.yaml's `detail.banks`; the starts are
coarse views of real test tiles (their 1/8 area view, bicubic back to 256 px: what an AE sample's layout gives the
detail stage); synthesis uses `detail.synthesis`. The first sample is a warm-up and is not timed. On a GPU the same
first --check samples are also made on the CPU and compared (mean absolute difference in 8-bit levels; nearest-patch
ties may resolve differently, so a few levels are expected, not zero).

    .venv/bin/python benchmarks/bench_detail_device.py --device cuda --sr-model results/sr/rlfn-x4-h256/model.pt
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "benchmarks"))

from real_tiles import DEFAULT_TILES, build_real_data  # noqa: E402

from rockzoom.config import load_config  # noqa: E402
from rockzoom.data.store import load_split  # noqa: E402
from rockzoom.superres.upscale import build_upscaler  # noqa: E402
from rockzoom.texture.patch_synthesis import synthesize  # noqa: E402
from rockzoom.texture.stage import build_patch_banks  # noqa: E402
from rockzoom.util.logs import console_logging  # noqa: E402


def coarse_start(tile: np.ndarray, factor: int = 8) -> np.ndarray:
    size = tile.shape[0]
    small = Image.fromarray(tile[..., :3]).resize((size // factor, size // factor), Image.Resampling.BOX)
    return np.asarray(small.resize((size, size), Image.Resampling.BICUBIC))


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tiles", type=Path, default=DEFAULT_TILES)
    p.add_argument("--work", type=Path, default=REPO / "results" / "bench_detail_device")
    p.add_argument("--device", default="cuda", choices=["cpu", "cuda"])
    p.add_argument("--sr-model", type=Path, default=None, help="an SR x4 checkpoint (default: the detail stage only)")
    p.add_argument("-n", type=int, default=8, help="timed samples")
    p.add_argument("--check", type=int, default=2, help="samples also made on the CPU and compared")
    args = p.parse_args()
    console_logging()
    config = load_config()
    data = build_real_data(args.tiles, args.work, [256])[256]
    banks_path = args.work / "banks-s256.pt"
    t0 = time.perf_counter()
    banks = build_patch_banks(data, banks_path, seed=config["seed"], **config["detail"]["banks"])
    t_banks = time.perf_counter() - t0
    test = load_split(data, "test").images
    starts = [coarse_start(np.asarray(test[i % len(test)])) for i in range(args.n + 1)]
    synthesis = dict(config["detail"]["synthesis"])
    upscaler = build_upscaler(checkpoint=args.sr_model, device=args.device) if args.sr_model else None

    detail_s, sr_s, outs = [], [], []
    for i, start in enumerate(starts):
        sync(args.device)
        t0 = time.perf_counter()
        out = synthesize(start, banks, seed=i, device=args.device, **synthesis)
        sync(args.device)
        t1 = time.perf_counter()
        if upscaler is not None:
            big = upscaler.upscale(out.astype(np.float32) / 255.0)
            assert big.shape[:2] == (out.shape[0] * upscaler.scale, out.shape[1] * upscaler.scale)
            sync(args.device)
        t2 = time.perf_counter()
        outs.append(out)
        if i:  # the first is the warm-up
            detail_s.append(t1 - t0)
            sr_s.append(t2 - t1)
    name = torch.cuda.get_device_name() if args.device == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"detail stage on {args.device} ({name}), banks built in {t_banks:.1f} s on the CPU; n = {len(detail_s)} "
          f"timed 256 px samples (median, [min, max]):")
    print(f"  detail 256 px: {statistics.median(detail_s):.3f} s [{min(detail_s):.3f}, {max(detail_s):.3f}]")
    if upscaler is not None:
        total = [a + b for a, b in zip(detail_s, sr_s)]
        print(f"  SR x4 -> {out.shape[0] * upscaler.scale} px ({args.sr_model.parent.name}): "
              f"{statistics.median(sr_s):.3f} s; detail + SR: {statistics.median(total):.3f} s per 1024 px sample")
    if args.device != "cpu" and args.check:
        diffs = []
        for i in range(min(args.check, len(starts))):
            cpu = synthesize(starts[i], banks, seed=i, device="cpu", **synthesis)
            diffs.append(np.abs(cpu.astype(np.int16) - outs[i]).mean())
        print(f"  {args.device} vs CPU on the same seeds (n = {len(diffs)}): mean |diff| "
              f"{', '.join(f'{d:.2f}' for d in diffs)} levels of 255")
    return 0


if __name__ == "__main__":
    sys.exit(main())
