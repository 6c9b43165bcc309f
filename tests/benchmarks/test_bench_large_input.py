"""benchmarks/bench_large_input.py writes its large PNG row by row with zlib: the file decodes (Pillow) to the texture
it means, every row, and its size is what the header says."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
SPEC = importlib.util.spec_from_file_location("bench_large_input", REPO / "benchmarks/bench_large_input.py")
bench = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(bench)


def test_the_streamed_png_decodes_to_the_texture(tmp_path):
    bench.write_png(tmp_path / "t.png", 300, seed=3)
    decoded = np.asarray(Image.open(tmp_path / "t.png"))
    block = bench.texture_row_block(300, seed=3)
    assert decoded.shape == (300, 300, 3)
    np.testing.assert_array_equal(decoded[:256], block)
    np.testing.assert_array_equal(decoded[256:], block[:44])  # the texture repeats every 256 rows
    assert decoded.std() > 10  # not a flat image
