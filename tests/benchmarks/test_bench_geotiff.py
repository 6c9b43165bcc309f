"""benchmarks/bench_geotiff.py's alignment check: an output that holds the same ground under matching pixels scores
its best PSNR at offset (0, 0); one whose content is a pixel off (georeferencing that would not line up) does not."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS

REPO = Path(__file__).resolve().parents[2]
SPEC = importlib.util.spec_from_file_location("bench_geotiff", REPO / "benchmarks/bench_geotiff.py")
bench = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(bench)

K = 4
TRANSFORM = Affine(0.02, 0, 500123.25, 0, -0.02, 4649876.5)


def _write(path, rgb, transform):
    h, w = rgb.shape[:2]
    with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=3, dtype="uint8",
                       crs=CRS.from_epsg(32633), transform=transform) as dst:
        dst.write(rgb.transpose(2, 0, 1))


def _check(tmp_path, shift_x):
    rng = np.random.default_rng(0)
    rgb = (rng.random((40, 30, 3)) * 255).astype(np.uint8)
    _write(tmp_path / "in.tif", rgb, TRANSFORM)
    big = np.roll(rgb, shift_x, axis=1).repeat(K, 0).repeat(K, 1)  # each input pixel as a k x k block
    _write(tmp_path / "out.tif", big, TRANSFORM @ Affine.scale(1 / K))
    with rasterio.open(tmp_path / "in.tif") as src, rasterio.open(tmp_path / "out.tif") as out:
        down = bench.box_average(out, K, rows=7)  # several row bands, the last one short
        return down, rgb, bench.alignment(src, out, K, np.ones((40, 30), bool))


def test_aligned_output_scores_best_at_zero_offset(tmp_path):
    down, rgb, report = _check(tmp_path, 0)
    np.testing.assert_array_equal(down, rgb.astype(np.float32))
    assert report["aligned"] and report["best_offset_px"] == "0,0"
    assert report["alignment_psnr_db"]["0,0"] == float("inf")


def test_output_a_pixel_off_is_not_aligned(tmp_path):
    _, _, report = _check(tmp_path, 1)
    assert not report["aligned"] and report["best_offset_px"] == "1,0"
