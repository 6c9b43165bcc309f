"""GeoTIFF ×k through `rockzoom upscale`, checked as QGIS would line the layers up: CRS equal, corner coordinates
equal, pixel size ÷ k, the same ground under matching pixels (the output averaged back to the input grid scores its
best PSNR at offset 0, 0 against ±1 input pixel), no-data where the input has none; with the wall time and the peak
memory of the upscale process.

    .venv/bin/python tools/make_real_geotiff.py ../shared/data/rock-tiles /work/scratch/ortho_utm.tif
    .venv/bin/python benchmarks/bench_geotiff.py /work/scratch/ortho_utm.tif /work/scratch/ortho_x4.tif \
        --model results/sr/rlfn-x4-h256/model.pt          # or --method lanczos --scale 4
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import rasterio
from rasterio.windows import Window

ROCKZOOM = Path(sys.executable).parent / "rockzoom"


def box_average(out, k: int, rows: int = 256) -> np.ndarray:
    """The output's RGB averaged over k x k blocks, back on the input grid (float32 (H, W, 3)), read band by band of
    rows so that the full-resolution output is never in memory at once."""
    h, w = out.height // k, out.width // k
    result = np.zeros((h, w, 3), np.float32)
    for r0 in range(0, h, rows):
        r1 = min(r0 + rows, h)
        block = out.read([1, 2, 3], window=Window(0, r0 * k, w * k, (r1 - r0) * k)).astype(np.float32)
        result[r0:r1] = block.reshape(3, r1 - r0, k, w, k).mean(axis=(2, 4)).transpose(1, 2, 0)
    return result


def alignment(src, out, k: int, valid: np.ndarray, shifts=(-1, 0, 1)) -> dict:
    """The same ground under matching pixels: PSNR (dB, valid pixels) of the output box-averaged back to the input
    grid against the input, at the pixel offset the georeferencing says (0, 0) and at +-1 input pixel; aligned when
    (0, 0) scores best."""
    down = box_average(out, k)
    image = src.read([1, 2, 3]).transpose(1, 2, 0).astype(np.float32)
    m = 1  # margin so that every shift compares the same pixels
    core = (slice(m, image.shape[0] - m), slice(m, image.shape[1] - m))
    ok = valid[core]
    psnr = {}
    for dy in shifts:
        for dx in shifts:
            shifted = down[m + dy:down.shape[0] - m + dy, m + dx:down.shape[1] - m + dx]
            mse = float(((shifted - image[core]) ** 2)[ok].mean())
            psnr[f"{dx},{dy}"] = round(10 * np.log10(255.0 ** 2 / mse), 2) if mse > 0 else float("inf")
    best = max(psnr, key=psnr.get)
    return {"alignment_psnr_db": psnr, "best_offset_px": best, "aligned": best == "0,0"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--model")
    ap.add_argument("--method")
    ap.add_argument("--scale", type=int)
    ap.add_argument("--no-cog", action="store_true")
    ap.add_argument("--check-only", action="store_true", help="check an existing output, do not upscale")
    args = ap.parse_args(argv)

    cmd = [str(ROCKZOOM), "upscale", args.input, args.output, "--device", "cpu"]
    cmd += ["--model", args.model] if args.model else ["--method", args.method, "--scale", str(args.scale)]
    cmd += [] if args.no_cog else ["--cog"]
    t0 = time.perf_counter()
    if not args.check_only:
        subprocess.run(cmd, check=True)
    seconds = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

    with rasterio.open(args.input) as src, rasterio.open(args.output) as out:
        k = out.width / src.width
        k = int(round(k))
        in_mask = src.dataset_mask() > 0
        # the output's full-resolution mask, band by band of rows (memory bounded), each k x k block against the
        # input pixel it came from
        agree = 0
        for r0 in range(0, src.height, 256):
            r1 = min(r0 + 256, src.height)
            block = out.dataset_mask(window=Window(0, r0 * k, out.width, (r1 - r0) * k)) > 0
            expected = in_mask[r0:r1].repeat(k, 0).repeat(k, 1)
            agree += int((block == expected).sum())
        rows, cols = np.array([0, src.height // 2, src.height - 1]), np.array([0, src.width // 2, src.width - 1])
        in_xy = np.array(src.xy(rows, cols, offset="ul"))
        out_xy = np.array(out.xy(rows * k, cols * k, offset="ul"))
        report = {
            "command": " ".join(cmd), "seconds": round(seconds, 1), "peak_rss_mb": round(peak_mb),
            "crs_in": src.crs.to_string(), "crs_out": out.crs.to_string(), "crs_equal": src.crs == out.crs,
            "size_in": [src.width, src.height], "size_out": [out.width, out.height],
            "pixel_size_in": list(src.res), "pixel_size_out": list(out.res),
            "pixel_size_ratio": [src.res[0] / out.res[0], src.res[1] / out.res[1]],
            "bounds_in": list(src.bounds), "bounds_out": list(out.bounds),
            "max_corner_difference_m": float(np.abs(np.subtract(src.bounds, out.bounds)).max()),
            "max_pixel_corner_difference_m": float(np.abs(in_xy - out_xy).max()),
            "mask_in_valid_fraction": float(in_mask.mean()),
            "mask_agreement": agree / (out.width * out.height),
            "layout": out.tags(ns="IMAGE_STRUCTURE").get("LAYOUT", "GTiff"),
            "overviews": out.overviews(1),
        }
        report.update(alignment(src, out, k, in_mask))
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
