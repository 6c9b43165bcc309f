"""The map page beside a pyramid (rockzoom.generation.map_page) and its tilemapresource.xml: coverage masks from
file names, a page that needs no network, the TMS document checked against the input tree's, and the page opened in
headless Chromium (skipped where no browser is installed)."""
from __future__ import annotations

import base64
import json
import re
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from browser import Chromium, find_chromium
from rockzoom.data.tiles import tms_to_xyz_row
from rockzoom.generation.map_page import coverage, tile_corner, tree_zooms
from rockzoom.generation.pyramid import upscale_pyramid, write_pyramid_metadata
from rockzoom.superres.upscale import ClassicalUpscaler
from test_pyramid import make_tms_tree

REPO = Path(__file__).resolve().parents[3]
X0, Y0, ZOOM = 1400000, 3260000, 23  # XYZ origin of the synthetic trees: the real tree's neighbourhood
CHROMIUM = find_chromium()
needs_browser = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed (Debian: apt-get install chromium; "
                                                            ".ci/run installs it where apt is available)")


def _config(page: Path) -> dict:
    text = page.read_text()
    return json.loads(re.search(r'<script id="rockzoom-config" type="application/json">(.*?)</script>', text,
                                re.S).group(1))


@pytest.fixture(scope="module")
def pyramid(tmp_path_factory):
    """A 3x2-tile TMS tree at zoom 23 with a no-data corner in tile (X0, Y0), 5 of its 6 tiles upscaled x4 by
    bicubic (out/) and by Lanczos (lanczos/); the bicubic page has the Lanczos pyramid as a third layer."""
    root = tmp_path_factory.mktemp("map")
    make_tms_tree(root / "in", np.random.default_rng(0), nx=3, ny=2, x0=X0, y0=Y0, zoom=ZOOM, hole=True)
    upscale_pyramid(root / "in", root / "lanczos", ClassicalUpscaler("lanczos", 4), zoom=ZOOM, max_tiles=5)
    info = upscale_pyramid(root / "in", root / "out", ClassicalUpscaler("bicubic", 4), zoom=ZOOM, max_tiles=5)
    write_pyramid_metadata(root / "out", root / "in", zoom=ZOOM, scale=4, row_scheme="tms", method="bicubic",
                           others=[("lanczos", root / "lanczos")])
    return root, info


def test_coverage_marks_the_tiles_present_in_xyz_rows(tmp_path):
    """One bit per tile named in the tree (TMS names read as XYZ rows); over `max_bits`, a coarser zoom where a
    tile stands for any of its children."""
    present = {(5, 9), (6, 9), (8, 12)}
    for x, y in present:
        p = tmp_path / "10" / str(x) / f"{tms_to_xyz_row(10, y)}.png"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"")  # names only: nothing is decoded
    (tmp_path / "10" / "5" / "notes.txt").write_text("not a tile")
    (tmp_path / "10" / "5" / "1024.png").write_bytes(b"")  # row 1024 is outside zoom 10's [0, 1024): no tile
    cov = coverage(tmp_path, 10, "tms")
    assert (cov.native, cov.zoom, cov.x0, cov.y0, cov.width, cov.height) == (10, 10, 5, 9, 4, 4)
    assert {(cov.x0 + i, cov.y0 + j) for j, i in zip(*np.nonzero(cov.bits))} == present
    coarse = coverage(tmp_path, 10, "tms", max_bits=4)  # 4x4 bits at zoom 10, 3x3 at 9: zoom 8, 2x2
    assert (coarse.native, coarse.zoom, coarse.x0, coarse.y0, coarse.width, coarse.height) == (10, 8, 1, 2, 2, 2)
    assert {(coarse.x0 + i, coarse.y0 + j) for j, i in zip(*np.nonzero(coarse.bits))} == {(1, 2), (2, 3)}
    assert coverage(tmp_path, 11, "tms") is None  # no such zoom: no tile


def test_page_needs_no_network_and_points_at_tiles_that_exist(pyramid):
    root, _ = pyramid
    page = root / "out" / "index.html"
    text = page.read_text()
    markup = re.sub(r"<script\b[^>]*>.*?</script>", "", text, flags=re.S)  # Leaflet's own strings aside
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", markup)  # no CDN: nothing remote to load
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", text) and not re.search(r"<script[^>]+src=", text)
    assert "Leaflet 1.9.4" in text and "Copyright (c) 2010-2023, Volodymyr Agafonkin" in text  # its BSD-2 licence
    cfg = _config(page)
    names = [la["name"] for la in cfg["layers"]]
    assert names == ["input (z23-23)", "bicubic x4 (z24-25)", "lanczos x4 (z24-25)"] and cfg["right"] == 1
    assert cfg["layers"][2]["url"] == "../lanczos/{z}/{x}/{y}.png"
    assert (cfg["minZoom"], cfg["maxZoom"], cfg["startZoom"]) == (23, 25, 23)
    for layer, c in [(la, c) for la in cfg["layers"] for c in la["coverage"]]:  # a tile of each mask: a file
        n = c["width"] * c["height"]
        bits = np.unpackbits(np.frombuffer(base64.b64decode(c["bits"]), np.uint8))[:n].reshape(c["height"], -1)
        j, i = map(int, np.argwhere(bits)[0])
        z, x, y = c["zoom"], c["x0"] + i, c["y0"] + j
        row = tms_to_xyz_row(z, y) if layer["tms"] else y
        url = layer["url"].replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(row))
        assert (page.parent / url).resolve().exists(), url
    # the output's mask: the 5 upscaled tiles' z25 children that hold data (the hole's all-transparent one is absent)
    assert [(c["native"], c["zoom"]) for c in cfg["layers"][1]["coverage"]] == [(24, 24), (25, 25)]
    z25 = cfg["layers"][1]["coverage"][1]
    bits = np.unpackbits(np.frombuffer(base64.b64decode(z25["bits"]), np.uint8))[:z25["width"] * z25["height"]]
    assert bits.sum() == len(list((root / "out" / "25").rglob("*.png"))) == 5 * 16 - 1


def test_tilemap_has_the_input_fields_and_gdal2tiles_units(pyramid, tmp_path):
    """The output's tilemapresource.xml against an input written as gdal2tiles writes it: the same root, SRS and
    TileFormat; TileSets of the new zooms with gdal2tiles' units-per-pixel; a bounding box (degrees, as gdal2tiles'
    mercator profile) that is exactly the upscaled tiles' box."""
    root, _ = pyramid
    out = ET.parse(root / "out" / "tilemapresource.xml").getroot()
    ref = ET.fromstring(
        '<?xml version="1.0" encoding="utf-8"?><TileMap version="1.0.0" tilemapservice="http://tms.osgeo.org/1.0.0">'
        '<Title>t</Title><Abstract></Abstract><SRS>EPSG:3857</SRS>'
        '<BoundingBox minx="1" miny="2" maxx="3" maxy="4"/><Origin x="1" y="2"/>'
        '<TileFormat width="256" height="256" mime-type="image/png" extension="png"/>'
        '<TileSets profile="mercator"><TileSet href="23" units-per-pixel="0.01866138385868" order="23"/></TileSets>'
        '</TileMap>')
    assert_tilemap_like(out, ref, zooms=[24, 25])
    bbox = {k: float(v) for k, v in out.find("BoundingBox").attrib.items()}
    # upscaled: the first 5 tiles in (x, y) order of the 3x2 tree = columns X0, X0+1 and (X0+2, Y0)
    west, north = tile_corner(X0, Y0, ZOOM)
    east, south = tile_corner(X0 + 3, Y0 + 2, ZOOM)
    assert bbox == pytest.approx({"minx": west, "miny": south, "maxx": east, "maxy": north}, abs=1e-12)


def assert_tilemap_like(out: ET.Element, ref: ET.Element, zooms: list[int]) -> None:
    """`out` has every field of `ref` with the same values (Title, BoundingBox, Origin, TileSets aside) and TileSets
    of `zooms` with gdal2tiles' mercator units-per-pixel (156543.0339 / 2^z)."""
    assert out.tag == ref.tag == "TileMap" and out.attrib == ref.attrib
    for child in ref:
        if child.tag in ("Title", "Abstract", "BoundingBox", "Origin", "TileSets"):
            continue
        got = out.find(child.tag)
        assert got is not None, child.tag
        assert (got.attrib, (got.text or "").strip()) == (child.attrib, (child.text or "").strip()), child.tag
    sets = out.find("TileSets")
    assert sets.get("profile") == (ref.find("TileSets").get("profile") if ref.find("TileSets") is not None
                                   else "mercator")
    assert [(s.get("href"), int(s.get("order"))) for s in sets] == [(str(z), z) for z in zooms]
    for s in sets:
        assert float(s.get("units-per-pixel")) == pytest.approx(156543.0339 / 2 ** int(s.get("order")), rel=1e-9)
    assert out.find("BoundingBox") is not None and out.find("Origin") is not None
    box, origin = out.find("BoundingBox").attrib, out.find("Origin").attrib
    assert float(box["minx"]) < float(box["maxx"]) and float(box["miny"]) < float(box["maxy"])
    assert (origin["x"], origin["y"]) == (box["minx"], box["miny"])  # gdal2tiles: the south-west corner


@pytest.mark.real
@pytest.mark.slow
def test_real_tree_page_and_tilemap(real_tiles, tmp_path):
    """The real tree (zooms 20-23, its own tilemapresource.xml): 16 tiles Lanczos x4 (as `snakemake pyramid`'s
    default max_tiles); the tilemap against the input's, the page's layers at every zoom the tree holds."""
    upscale_pyramid(real_tiles, tmp_path / "out", ClassicalUpscaler("lanczos", 4), zoom=23, max_tiles=16)
    assert_tilemap_like(ET.parse(tmp_path / "out" / "tilemapresource.xml").getroot(),
                        ET.parse(Path(real_tiles) / "tilemapresource.xml").getroot(), zooms=[24, 25])
    cfg = _config(tmp_path / "out" / "index.html")
    assert [(la["minNativeZoom"], la["maxNativeZoom"]) for la in cfg["layers"]] == [
        (min(tree_zooms(real_tiles)), 23), (24, 25)]
    if CHROMIUM is not None:
        with Chromium(CHROMIUM) as b:
            shots = check_page_in_browser(b, tmp_path / "out" / "index.html", range(cfg["minZoom"], 26), tmp_path)
        assert len(shots) == 26 - cfg["minZoom"]


def check_page_in_browser(b: Chromium, page: Path, zooms, shot_dir: Path) -> dict[int, Path]:
    """Open the page at each zoom: tiles load in every shown layer that holds that zoom (or a finer one below it),
    nothing fails, the console is clean, nothing remote is asked for. Returns a screenshot per zoom."""
    shots = {}
    b.open(page.as_uri())
    b.wait_for("window.rockzoom && window.rockzoom.idle()")
    for z in zooms:
        b.evaluate(f"location.hash = '#z={z}'")
        b.wait_for(f"window.rockzoom.map.getZoom() === {z} && window.rockzoom.idle()")
        stats, shown = b.evaluate("[window.rockzoom.stats, window.rockzoom.layers.map("
                                  "function (l) { return window.rockzoom.map.hasLayer(l); })]")
        cfg = _config(page)
        for layer, s, on in zip(cfg["layers"], stats, shown):
            assert not s["failed"], (z, layer["name"], s["failedUrls"])
            native = min(max(z, layer["minNativeZoom"]), layer["maxNativeZoom"])
            if on and z >= layer["minZoom"]:
                assert s["loaded"].get(str(native), 0) > 0, (z, layer["name"], s)
        shots[z] = b.screenshot(shot_dir / f"map_z{z}.png")
    assert b.console_errors() == []
    remote = [u for u in b.requested_urls() if not u.startswith(("file:", "data:"))]
    assert remote == []  # works offline: every request is a file beside it or data in the page
    return shots


@needs_browser
def test_page_in_headless_chromium(pyramid, tmp_path):
    """Tiles load at zoom 23 (input native, output reduced) and 25 (input enlarged, output native) with no failed
    request; the no-data corner shows the checkerboard; dragging the divider moves the swipe; the other pyramid is a
    layer to switch to."""
    root, _ = pyramid
    page = root / "out" / "index.html"
    with Chromium(CHROMIUM) as b:
        shots = check_page_in_browser(b, page, [23, 25], tmp_path)
        assert Image.open(shots[25]).size == (1200, 800)
        lon, lat = tile_corner(X0 + 0.05, Y0 + 0.05, ZOOM)  # inside tile (X0, Y0)'s 100 px no-data corner
        b.evaluate(f"location.hash = '#z=23&lat={lat}&lng={lon}&mode=left'")
        b.wait_for("window.rockzoom.map.getZoom() === 23 && window.rockzoom.idle()")
        b.pump(0.3)
        gray = np.asarray(Image.open(b.screenshot(tmp_path / "nodata.png")).convert("L"))
        assert set(np.unique(gray[392:408, 592:608])) == {204, 255}  # the map's centre: the checkerboard
        b.evaluate("location.hash = '#z=25&mode=swipe&split=0.5'")
        b.wait_for("window.rockzoom.map.getZoom() === 25 && window.rockzoom.idle()")
        for kind, x in (("mousePressed", 600), ("mouseMoved", 450), ("mouseMoved", 300), ("mouseReleased", 300)):
            b.call("Input.dispatchMouseEvent", session=True, type=kind, x=x, y=600, button="left", buttons=1,
                   clickCount=1)
        b.pump(0.3)
        split, clip = b.evaluate("[window.rockzoom.state.split, window.rockzoom.layers[1].getContainer().style.clip]")
        assert split == pytest.approx(0.25, abs=0.01)
        assert re.fullmatch(r"rect\(-?\d+px, -?\d+px, -?\d+px, -?\d+px\)", clip)
        # the Lanczos pyramid on the right, in place of the bicubic one
        b.evaluate("var s = document.getElementById('right'); s.value = '2'; s.dispatchEvent(new Event('change'))")
        b.wait_for("window.rockzoom.idle()")
        shown, stats = b.evaluate("[window.rockzoom.layers.map(function (l) { return window.rockzoom.map.hasLayer(l); "
                                  "}), window.rockzoom.stats]")
        assert shown == [True, False, True]
        assert stats[2]["loaded"].get("25", 0) > 0 and not stats[2]["failed"]
        assert "right=2" in b.evaluate("location.hash") and b.console_errors() == []


def test_leaflet_and_its_licence_ship_as_package_data():
    """pyproject's package-data globs hold the map page's script, Leaflet and its licence (what a wheel carries)."""
    globs = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"][
        "rockzoom.generation"]
    pkg = REPO / "src" / "rockzoom" / "generation"
    shipped = {p.relative_to(pkg).as_posix() for g in globs for p in pkg.glob(g)}
    assert {"static/map_page.js", "static/leaflet/leaflet.js", "static/leaflet/leaflet.css",
            "static/leaflet/LICENSE"} <= shipped
    assert "BSD 2-Clause License" in (pkg / "static" / "leaflet" / "LICENSE").read_text()
