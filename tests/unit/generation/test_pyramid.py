import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from rockzoom.data.tiles import tms_to_xyz_row
from rockzoom.generation.pyramid import mosaic, upscale_pyramid
from rockzoom.metrics.fidelity import psnr_from_mse
from rockzoom.models.registry import SR_NETS
from rockzoom.superres.upscale import ClassicalUpscaler, NetUpscaler


def make_tms_tree(root, rng, nx=3, ny=3, x0=100, y0=200, zoom=10, hole=False):
    """A TMS tree of smooth random tiles (XYZ origin x0, y0), optionally with a no-data corner."""
    field = np.asarray(Image.fromarray(rng.integers(0, 256, (ny * 16, nx * 16, 3), dtype=np.uint8))
                       .resize((nx * 256, ny * 256), Image.BICUBIC))
    for i in range(nx):
        for j in range(ny):
            tile = np.dstack([field[j * 256:(j + 1) * 256, i * 256:(i + 1) * 256], np.full((256, 256), 255, np.uint8)])
            if hole and (i, j) == (0, 0):
                tile[:100, :100, 3] = 0
            path = root / str(zoom) / str(x0 + i) / f"{tms_to_xyz_row(zoom, y0 + j)}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(tile, "RGBA").save(path)
    (root / "tilemapresource.xml").write_text("<TileMap/>")
    return field


@pytest.mark.parametrize("kind", ["lanczos", "net"])
def test_pyramid_tiles_meet_without_seams(tmp_path, kind):
    rng = np.random.default_rng(0)
    make_tms_tree(tmp_path / "in", rng)
    if kind == "lanczos":
        up = ClassicalUpscaler("lanczos", 2)
    else:
        torch.manual_seed(0)
        up = NetUpscaler(SR_NETS.build("rlfn", scale=2), 2, device="cpu")
    info = upscale_pyramid(tmp_path / "in", tmp_path / "out", up, zoom=10, context=16)
    assert info["output_zoom"] == 11 and info["output_tiles"] == 36 and info["scheme"] == "tms"
    tiles, (x0, y0) = mosaic(tmp_path / "out", 11)
    assert (x0, y0) == (200, 400) and tiles.shape == (1536, 1536, 4)
    source, _ = mosaic(tmp_path / "in", 10)
    from rockzoom.generation.pyramid import _fill_no_data

    whole = np.rint(up.upscale(_fill_no_data(source)) * 255).astype(np.uint8)
    m = 64  # the outer edge of the 3x3 tree is edge-replicated, not real context: compare inside it
    diff = tiles[m:-m, m:-m, :3].astype(np.float64) - whole[m:-m, m:-m].astype(np.float64)
    assert psnr_from_mse(np.mean(diff ** 2)) >= 60


def test_pyramid_keeps_no_data(tmp_path):
    rng = np.random.default_rng(1)
    make_tms_tree(tmp_path / "in", rng, nx=2, ny=2, hole=True)
    upscale_pyramid(tmp_path / "in", tmp_path / "out", ClassicalUpscaler("bicubic", 4), zoom=10)
    tiles, _ = mosaic(tmp_path / "out", 12)
    alpha = tiles[..., 3]
    assert (alpha[:400, :400] == 0).all() and (alpha[400:, :] == 255).all()
    assert (tiles[:400, :400, :3] == 0).all()
    # Next to the hole the colours stay those of the field, not darkened by black no-data.
    assert tiles[400:420, :400, :3].mean() > 60


def test_pyramid_refuses_a_non_power_of_two_scale(tmp_path):
    make_tms_tree(tmp_path / "in", np.random.default_rng(2), nx=1, ny=1)
    with pytest.raises(ValueError, match="power-of-two"):
        upscale_pyramid(tmp_path / "in", tmp_path / "out", ClassicalUpscaler("bicubic", 3), zoom=10)


def test_a_classical_pyramid_does_not_import_torch(tmp_path):
    """A Lanczos pyramid job (one per shard in the workflow) starts without torch's ~1 s import."""
    code = ("import sys, numpy as np; from PIL import Image; from pathlib import Path\n"
            f"d = Path({str(tmp_path)!r}) / '10' / '3'; d.mkdir(parents=True)\n"
            "Image.fromarray(np.full((256, 256, 4), 200, np.uint8)).save(d / '5.png')\n"
            "from rockzoom.generation.pyramid import upscale_pyramid\n"
            "from rockzoom.superres.upscale import build_upscaler\n"
            f"info = upscale_pyramid({str(tmp_path)!r}, {str(tmp_path / 'out')!r}, build_upscaler(method='lanczos', "
            "scale=2), zoom=10, scheme='xyz')\n"
            "print(info['output_tiles'], 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["4", "False"]
