"""An image over the pixel limit written to a TIFF is streamed (row strips of a PNG/JPEG, each row read once) and
the result equals the image read whole and upscaled in memory; written to a PNG/JPEG it is refused from its header."""
import numpy as np
import pytest
import rasterio
import torch
from PIL import Image
from rasterio.windows import Window

from rockzoom.data.image_files import read_image
from rockzoom.models.registry import SR_NETS
from rockzoom.superres.batch import upscale_one
from rockzoom.superres.geotiff import _RowStrips
from rockzoom.superres.upscale import NetUpscaler, tile_boxes


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return NetUpscaler(SR_NETS.build("rlfn", scale=2, n_blocks=1, n_feats=8), 2, device="cpu")


def _texture(h=70, w=54, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.random((h, w, 3)) * 255).astype(np.uint8)


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
@pytest.mark.parametrize("name", ["rgb.png", "rgba.png", "rgb444.jpg"])
def test_streamed_input_equals_the_image_read_whole(tmp_path, net, name):
    rgb = _texture()
    if name == "rgba.png":
        alpha = np.full(rgb.shape[:2], 255, np.uint8)
        alpha[:9], alpha[30:40, 40:] = 0, 128  # no-data rows and a half-transparent block: values are kept
        Image.fromarray(np.dstack([rgb, alpha])).save(tmp_path / name)
    elif name.endswith(".jpg"):
        Image.fromarray(rgb).save(tmp_path / name, quality=90, subsampling=0)  # 4:4:4: PIL and GDAL decode alike
    else:
        Image.fromarray(rgb).save(tmp_path / name)
    src = tmp_path / name
    whole = upscale_one(src, tmp_path / "whole.tif", net, tile=16, overlap=8, progress=False)
    streamed = upscale_one(src, tmp_path / "streamed.tif", net, tile=16, overlap=8, max_pixels=1000, progress=False)
    assert whole["input"] == streamed["input"] == [70, 54] and streamed["output"] == [140, 108]
    with rasterio.open(tmp_path / "streamed.tif") as out:  # GDAL's windowed writer, not PIL's whole-image one
        assert out.profile["tiled"] and out.crs is None
    a_rgb, a_alpha = read_image(tmp_path / "whole.tif")
    b_rgb, b_alpha = read_image(tmp_path / "streamed.tif")
    if name.endswith(".jpg"):  # libjpeg builds round the IDCT apart by one level on a few pixels
        assert np.abs(b_rgb.astype(int) - a_rgb).max() <= 1 and (b_rgb != a_rgb).mean() < 0.01
    else:
        np.testing.assert_array_equal(b_rgb, a_rgb)
    if name == "rgba.png":
        np.testing.assert_array_equal(b_alpha, a_alpha)
        assert set(np.unique(b_alpha)) == {0, 128, 255}
    else:
        assert a_alpha is None and b_alpha is None


def test_over_the_limit_to_a_png_is_refused_before_reading(tmp_path, net):
    Image.fromarray(_texture()).save(tmp_path / "in.png")
    with pytest.raises(ValueError, match=r"in.png: 54x70 = 3,780 pixels is over the pixel limit 1,000 .*out.tif.*"
                                         r"--max-pixels"):
        upscale_one(tmp_path / "in.png", tmp_path / "out.png", net, max_pixels=1000, progress=False)
    assert not (tmp_path / "out.png").exists()


class _Spy:
    """A sequential raster's rows, recording each read."""

    def __init__(self, bands):
        self.data, self.reads = bands, []
        self.width = bands.shape[2]

    def read(self, indexes, window: Window):
        self.reads.append((window.row_off, window.height))
        rows = slice(window.row_off, window.row_off + window.height)
        return self.data[[i - 1 for i in indexes], rows, window.col_off:window.col_off + window.width]


def test_row_strips_read_each_row_once_in_order_and_hold_one_strip():
    h, w, tile, overlap = 75, 40, 16, 5
    bands = np.random.default_rng(1).integers(0, 256, (4, h, w), dtype=np.uint8)
    spy = _Spy(bands)
    strips = _RowStrips(spy, "x.png", [1, 2, 3], alpha=4)
    for core, padded in tile_boxes(h, w, tile, overlap):
        (y0, y1, x0, x1), (py0, py1, px0, px1) = core, padded
        patch, alpha = strips.read(core, padded)
        np.testing.assert_array_equal(patch, bands[:3, py0:py1, px0:px1].transpose(1, 2, 0))
        np.testing.assert_array_equal(alpha, bands[3, y0:y1, x0:x1])
        assert len(strips.rows) <= tile + 2 * overlap
    starts = [r for r, _ in spy.reads]
    assert starts[0] == 0 and sum(n for _, n in spy.reads) == h  # every row once
    assert all(a + n == b for (a, n), b in zip(spy.reads, starts[1:]))  # in order, no going back
