"""Tiles read straight from a GeoTIFF equal the tiles that gdal2tiles-style code cuts from the same raster: exactly on
a raster already on the web-mercator tile grid, within resampling tolerance on a raster in a UTM CRS."""
import numpy as np
import pytest
import rasterio
from affine import Affine
from morecantile import tms as tms_registry
from rasterio.crs import CRS
from rasterio.enums import ColorInterp, Resampling
from rasterio.warp import calculate_default_transform, reproject

from rockzoom.data.dataset import build_dataset, make_split
from rockzoom.data.geotiff_source import is_geotiff, parse_tile_ref
from rockzoom.data.tiles import build_index, decode_tile_rgba, index_tiles, read_index

ZOOM = 20
MERCATOR = tms_registry.get("WebMercatorQuad")
X0, Y0, NX, NY = 560_000, 380_000, 4, 3  # the tile grid cell of the synthetic raster's top-left tile (XYZ)


def _smooth_rgb(h, w, seed=0):
    """Smooth enough that resampling changes it little, varied enough that a misplaced tile shows."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / 37.0
    chans = [np.sin(xx * rng.uniform(0.5, 1.5) + rng.uniform(0, 6)) * np.cos(yy * rng.uniform(0.5, 1.5)) for _ in range(3)]
    return np.clip(np.stack(chans, -1) * 100 + 128, 1, 255).astype(np.uint8)


def _write(path, rgb, valid, crs, transform):
    h, w = valid.shape
    with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=4, dtype="uint8", crs=crs,
                       transform=transform, tiled=True) as dst:
        dst.write(rgb.transpose(2, 0, 1), [1, 2, 3])
        dst.write(valid.astype(np.uint8) * 255, 4)
        dst.colorinterp = [ColorInterp.red, ColorInterp.green, ColorInterp.blue, ColorInterp.alpha]


@pytest.fixture(scope="module")
def mercator_tif(tmp_path_factory):
    """A raster on the zoom-20 tile grid: NX x NY tiles, the left column no-data."""
    bounds = MERCATOR.xy_bounds(X0, Y0, ZOOM)
    res = (bounds.right - bounds.left) / 256
    rgb = _smooth_rgb(NY * 256, NX * 256)
    valid = np.ones(rgb.shape[:2], bool)
    valid[:, :256] = False
    path = tmp_path_factory.mktemp("merc") / "ortho.tif"
    _write(path, rgb, valid, CRS.from_epsg(3857), Affine(res, 0, bounds.left, 0, -res, bounds.top))
    return path, rgb, valid


def test_tiles_of_a_grid_aligned_raster_are_its_slices(mercator_tif):
    path, rgb, valid = mercator_tif
    records, rejected = index_tiles(path, ZOOM)
    assert rejected == []
    # the all-no-data column is left out, as gdal2tiles leaves it out
    assert [(r.x, r.y) for r in records] == [(X0 + i, Y0 + j) for i in range(1, NX) for j in range(NY)]
    for r in records:
        assert parse_tile_ref(r.path) == (str(path), ZOOM, r.x, r.y) and r.valid_fraction == 1.0
        tile, mode = decode_tile_rgba(r.path)
        i, j = r.x - X0, r.y - Y0  # gdal2tiles' cut: the pixels of that tile's cell, row 0 at the top (XYZ)
        expected = rgb[j * 256:(j + 1) * 256, i * 256:(i + 1) * 256]
        assert mode == "RGBA" and (tile[..., 3] == 255).all()
        assert np.abs(tile[..., :3].astype(int) - expected).max() <= 1


def test_tiles_of_a_utm_raster_match_a_warp_then_cut(tmp_path, mercator_tif):
    """The same ground in UTM 32N with a no-data border; gdal2tiles-style reference: warp to EPSG:3857 on the tile
    grid with rasterio.warp, then slice."""
    merc_path, _, _ = mercator_tif
    utm = CRS.from_epsg(32632)
    with rasterio.open(merc_path) as src:
        transform, w, h = calculate_default_transform(src.crs, utm, src.width, src.height, *src.bounds)
        rgba = np.zeros((4, h, w), np.uint8)
        reproject(src.read(), rgba, src_transform=src.transform, src_crs=src.crs, dst_transform=transform,
                  dst_crs=utm, resampling=Resampling.bilinear)
    rgba[3] = np.where(rgba[3] == 255, 255, 0)
    utm_path = tmp_path / "utm.tif"
    _write(utm_path, rgba[:3].transpose(1, 2, 0), rgba[3] > 0, utm, transform)

    records, _ = index_tiles(utm_path, ZOOM)
    corner = MERCATOR.xy_bounds(X0 - 1, Y0 - 1, ZOOM)  # one tile of margin: warping spills over the edge
    left, top, res = corner.left, corner.top, (corner.right - corner.left) / 256
    ref = np.zeros((4, (NY + 2) * 256, (NX + 2) * 256), np.uint8)
    with rasterio.open(utm_path) as src:
        reproject(src.read(), ref, src_transform=src.transform, src_crs=src.crs,
                  dst_transform=Affine(res, 0, left, 0, -res, top), dst_crs=CRS.from_epsg(3857),
                  resampling=Resampling.bilinear)
    assert {(r.x, r.y) for r in records} >= {(X0 + i, Y0 + j) for i in range(1, NX) for j in range(NY)}
    diffs = []
    for r in records:
        tile, _ = decode_tile_rgba(r.path)
        i, j = r.x - X0 + 1, r.y - Y0 + 1
        cut = ref[:, j * 256:(j + 1) * 256, i * 256:(i + 1) * 256].transpose(1, 2, 0)
        both = (tile[..., 3] > 0) & (cut[..., 3] > 0)
        assert ((tile[..., 3] > 0) != (cut[..., 3] > 0)).mean() < 0.02  # masks agree but at the resampled edge
        diffs.append(np.abs(tile[..., :3].astype(int) - cut[..., :3])[both])
    diffs = np.concatenate(diffs)
    assert diffs.mean() < 1.0 and np.percentile(diffs, 99) <= 4


def test_index_and_dataset_read_a_geotiff(tmp_path, mercator_tif):
    path, rgb, _ = mercator_tif
    build_index(path, ZOOM, tmp_path / "index.csv", tmp_path / "rejected.csv")
    assert len(read_index(tmp_path / "index.csv")) == (NX - 1) * NY
    make_split(tmp_path / "index.csv", tmp_path / "blocks.csv", zoom=ZOOM, block_zoom=ZOOM,
               fractions={"train": 0.34, "val": 0.33, "test": 0.33}, seed=0, sizes=[256], min_valid=0.9)
    summary = build_dataset(tmp_path / "index.csv", tmp_path / "blocks.csv", tmp_path / "s256", size=256,
                            min_valid=0.9, guard_tiles=0)
    assert sum(s["count"] for s in summary["splits"].values()) == (NX - 1) * NY
    images = np.concatenate([np.load(tmp_path / "s256" / f"{k}_images.npy") for k in ("train", "val", "test")])
    cells = {rgb[j * 256:(j + 1) * 256, i * 256:(i + 1) * 256].tobytes(): (i, j) for i in range(NX) for j in range(NY)}
    for image in images:  # every sample is one tile of the raster (exactly: the grid is aligned)
        nearest = min(cells, key=lambda c: np.abs(np.frombuffer(c, np.uint8).astype(int) - image.ravel()).max())
        assert np.abs(np.frombuffer(nearest, np.uint8).astype(int) - image.ravel()).max() <= 1


def test_source_setting(tmp_path, mercator_tif):
    path, _, _ = mercator_tif
    assert is_geotiff(path) and not is_geotiff(tmp_path) and is_geotiff(tmp_path / "x", "geotiff")
    assert not is_geotiff(path, "tree")
    with pytest.raises(ValueError, match="tiles.source"):
        is_geotiff(path, "cog")
    with pytest.raises(FileNotFoundError, match="no-such.tif"):
        index_tiles(tmp_path / "no-such.tif", ZOOM, source="geotiff")


def test_the_pyramid_stage_reads_a_geotiff(tmp_path, mercator_tif):
    """`upscale_pyramid` lists and reads its tiles through the same seams: zoom+1 XYZ tiles of the raster's ground."""
    from rockzoom.generation.pyramid import upscale_pyramid
    from rockzoom.superres.upscale import ClassicalUpscaler

    path, rgb, _ = mercator_tif
    info = upscale_pyramid(path, tmp_path / "out", ClassicalUpscaler("lanczos", 2), zoom=ZOOM, max_tiles=1)
    assert info["scheme"] == "xyz" and info["output_tiles"] == 4
    x, y = X0 + 1, Y0  # the first valid tile (x, y order), its top-left child at zoom + 1
    child, _ = decode_tile_rgba(tmp_path / "out" / str(ZOOM + 1) / str(2 * x) / f"{2 * y}.png")
    expected = np.asarray(ClassicalUpscaler("lanczos", 2).upscale(rgb[:256, 256:512].astype(np.float32) / 255))
    diff = np.abs(child[32:224, 32:224, :3] / 255.0 - expected[32:224, 32:224])  # away from the context edge
    assert diff.mean() < 0.01


def test_pyramid_lr_of_a_geotiff_is_its_coarser_zoom(tmp_path, mercator_tif):
    """sr.train.lr_source: pyramid on a GeoTIFF source: the zoom-18 view cut from the raster, close to the 4x4
    average of the zoom-20 pixels (rio-tiler resamples bilinearly, so within resampling tolerance)."""
    from rockzoom.superres.pyramid_lr import layout_from_index, pyramid_lr

    path, rgb, _ = mercator_tif
    build_index(path, ZOOM, tmp_path / "index.csv", tmp_path / "rejected.csv")
    layout = layout_from_index(tmp_path / "index.csv")
    assert layout.scheme == "geotiff" and layout.root == path
    sample = {"z": ZOOM, "x": X0 + 1, "y": Y0 + 1, "offset_x": 0, "offset_y": 0, "size": 256}
    lr, valid = pyramid_lr([sample], layout, 4)
    assert valid.all()
    box = rgb[256:512, 256:512].astype(float).reshape(64, 4, 64, 4, 3).mean((1, 3))
    assert np.abs(lr[0].astype(float) - box)[4:-4, 4:-4].mean() < 3
