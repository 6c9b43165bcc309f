"""GeoTIFF round trip on small synthetic rasters in a projected CRS: geotransform scaled exactly, CRS and the mask
(nodata value, alpha band, internal mask) kept, the windowed result equal to the whole image upscaled at once."""
import numpy as np
import pytest
import rasterio
import torch
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import ColorInterp

from rockzoom.cli import main
from rockzoom.models.registry import SR_NETS
from rockzoom.superres.geotiff import _keep_nodata, upscale_geotiff
from rockzoom.superres.upscale import ClassicalUpscaler, NetUpscaler
from rockzoom.util.checkpoint import model_checkpoint, save_checkpoint

CRS_UTM = CRS.from_epsg(32633)
TRANSFORM = Affine(0.02, 0, 500123.25, 0, -0.02, 4649876.5)  # 2 cm pixels, UTM 33N


def _write(path, rgb, valid, kind):
    h, w = rgb.shape[:2]
    profile = {"driver": "GTiff", "width": w, "height": h, "dtype": "uint8", "crs": CRS_UTM, "transform": TRANSFORM,
               "count": 4 if kind == "alpha" else 3, "tiled": True, "blockxsize": 16, "blockysize": 16}
    if kind == "nodata":
        profile["nodata"] = 0
        rgb = np.where(valid[..., None], np.maximum(rgb, 1), 0).astype(np.uint8)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(rgb.transpose(2, 0, 1), [1, 2, 3])
        if kind == "alpha":
            dst.colorinterp = [ColorInterp.red, ColorInterp.green, ColorInterp.blue, ColorInterp.alpha]
            dst.write(valid.astype(np.uint8) * 255, 4)
        elif kind == "mask":
            dst.write_mask(valid.astype(np.uint8) * 255)
    return rgb


def _raster(h=70, w=54, seed=0):
    rng = np.random.default_rng(seed)
    rgb = (rng.random((h, w, 3)) * 255).astype(np.uint8)
    valid = np.ones((h, w), bool)
    valid[:9, :] = False  # a no-data border
    valid[30:40, 40:] = False
    return rgb, valid


@pytest.fixture(scope="module")
def net_upscaler():
    torch.manual_seed(0)
    return NetUpscaler(SR_NETS.build("rlfn", scale=4, n_blocks=1, n_feats=8), 4, device="cpu")


@pytest.mark.parametrize("kind", ["nodata", "alpha", "mask"])
def test_round_trip_keeps_georeferencing_and_mask(tmp_path, net_upscaler, kind):
    rgb, valid = _raster()
    rgb = _write(tmp_path / "in.tif", rgb, valid, kind)
    info = upscale_geotiff(tmp_path / "in.tif", tmp_path / "out.tif", net_upscaler, tile=24, overlap=16)
    assert info["mask"] == kind
    with rasterio.open(tmp_path / "in.tif") as src, rasterio.open(tmp_path / "out.tif") as out:
        assert out.crs == src.crs == CRS_UTM
        assert out.transform == TRANSFORM @ Affine.scale(0.25)
        assert (out.transform.a, out.transform.e) == (0.005, -0.005)
        assert (out.transform.c, out.transform.f) == (TRANSFORM.c, TRANSFORM.f)
        assert out.bounds == src.bounds  # corner coordinates equal
        assert (out.width, out.height) == (54 * 4, 70 * 4)
        assert out.nodata == (0 if kind == "nodata" else None)
        out_valid = out.dataset_mask() > 0
        data = out.read([1, 2, 3]).transpose(1, 2, 0)
    np.testing.assert_array_equal(out_valid, valid.repeat(4, 0).repeat(4, 1))
    # windowed (24 px tiles + 16 px context, read from the file) equals the whole image upscaled in one call
    whole = np.rint(net_upscaler.upscale(rgb.astype(np.float32) / 255) * 255)
    assert np.abs(data.astype(float) - whole)[out_valid].max() <= 1


def test_cog_output_is_cloud_optimized_and_equal(tmp_path):
    rgb, valid = _raster(120, 100)
    _write(tmp_path / "in.tif", rgb, valid, "nodata")
    up = ClassicalUpscaler("lanczos", 2)
    upscale_geotiff(tmp_path / "in.tif", tmp_path / "plain.tif", up, tile=32, overlap=8)
    upscale_geotiff(tmp_path / "in.tif", tmp_path / "cog.tif", up, tile=32, overlap=8, cog=True)
    with rasterio.open(tmp_path / "plain.tif") as a, rasterio.open(tmp_path / "cog.tif") as b:
        assert b.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert b.transform == a.transform and b.crs == a.crs and b.nodata == a.nodata
        np.testing.assert_array_equal(a.read(), b.read())
    assert not list(tmp_path.glob(".*tmp*"))


def test_a_valid_pixel_equal_to_nodata_stays_valid():
    rgb = np.zeros((2, 2, 3), np.uint8)
    valid = np.array([[True, False], [True, True]])
    rgb[1, 1] = 7
    out = _keep_nodata(rgb, valid, 0)
    assert (out[0, 1] == 0).all()  # no-data
    assert out[0, 0].tolist() == [1, 0, 0] and out[1, 0].tolist() == [1, 0, 0]  # were all-0 but valid
    assert out[1, 1].tolist() == [7, 7, 7]


def test_unsupported_rasters_are_named(tmp_path):
    path = tmp_path / "dem.tif"
    with rasterio.open(path, "w", driver="GTiff", width=8, height=8, count=1, dtype="float32", crs=CRS_UTM,
                       transform=TRANSFORM) as dst:
        dst.write(np.zeros((1, 8, 8), np.float32))
    with pytest.raises(ValueError, match="dem.tif.*uint8"):
        upscale_geotiff(path, tmp_path / "out.tif", ClassicalUpscaler("lanczos", 2))
    assert main(["upscale", str(path), str(tmp_path / "out.tif"), "--method", "lanczos", "--scale", "2"]) == 2


def test_cli_many_inputs_one_model(tmp_path, net_upscaler):
    ckpt = tmp_path / "model.pt"
    save_checkpoint(ckpt, model_checkpoint(kind="sr", config={}, model_kwargs={"arch": "rlfn", "scale": 4,
                    "n_blocks": 1, "n_feats": 8}, state_dict=net_upscaler.model.state_dict(), step=0, best_val=None,
                    data_hash=""))
    (tmp_path / "a").mkdir()
    rasters = {}
    for i, name in enumerate(["a/one.tif", "a/two.tif", "three.tif"]):
        rgb, valid = _raster(40, 30, seed=i)
        rasters[name.split("/")[-1]] = _write(tmp_path / name, rgb, valid, "alpha")
    assert main(["upscale", str(tmp_path / "a"), str(tmp_path / "thr*.tif"), str(tmp_path / "out"),
                 "--model", str(ckpt), "--tile", "16", "--device", "cpu", "--cog"]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["one.tif", "three.tif", "two.tif"]
    for name, rgb in rasters.items():
        with rasterio.open(tmp_path / "out" / name) as out:
            data, valid = out.read([1, 2, 3]).transpose(1, 2, 0), out.dataset_mask() > 0
        whole = np.rint(net_upscaler.upscale(rgb.astype(np.float32) / 255) * 255)
        assert np.abs(data.astype(float) - whole)[valid].max() <= 1
    # several inputs need a folder; a missing input is named, before the model loads
    assert main(["upscale", str(tmp_path / "a"), str(tmp_path / "x.tif"), "--method", "lanczos", "--scale", "2"]) == 2
    assert main(["upscale", str(tmp_path / "nope.tif"), str(tmp_path / "o"), "--model", str(ckpt)]) == 2
