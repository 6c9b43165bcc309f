"""The map page beside a super-resolved pyramid: `index.html`, opened from disk with no network.

It shows the input tree and each upscaled tree as Leaflet tile layers at the zooms they hold, and a swipe between
any two of them (by default: the input on the left, the upscaled tree on the right), so the input's zoom-z pixels,
enlarged, sit beside the output's zoom z+k tiles at the same place. Where no layer has a tile, or a tile's pixels are
no-data, the page shows a checkerboard. Leaflet ships with rockzoom (`generation/static/leaflet`, BSD-2-Clause,
licence in the page) and is written into the page, so the page is one file; the tiles are read by relative path.

Each layer carries a coverage mask per zoom it holds (one bit per tile of that zoom's box; a coarser bit standing for
its children where the box passes `MAX_MASK_BITS`), so the page asks only for tiles that exist: no 404 for the holes
of a tree, the tiles a `max_tiles` run did not upscale, or a coarser zoom made over less ground than the finest. The
masks come from the trees' file names (no tile is decoded), read one folder at a time.
"""
from __future__ import annotations

import base64
import html
import json
import logging
import math
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import quote

import numpy as np

from rockzoom.data import geotiff_source
from rockzoom.data.tiles import EXTENSIONS, tms_to_xyz_row

logger = logging.getLogger(__name__)

MAX_MASK_BITS = 1 << 22  # 512 KB of mask (~700 KB in the page) at most per layer; coarser zooms beyond that
PAGE_NAME = "index.html"
_DIGITS = re.compile(r"^\d+$")


def tile_corner(x: float, y: float, zoom: int) -> tuple[float, float]:
    """(lon, lat) in degrees of the north-west corner of web-mercator tile (x, y XYZ) at zoom (fractions allowed)."""
    n = 2.0 ** zoom
    return x / n * 360.0 - 180.0, math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / n))))


@dataclass(frozen=True)
class Coverage:
    """Which tiles of zoom `native` exist: a bit per tile of zoom `zoom` <= native (a tile there standing for its
    children) over the box (x0, y0) .. (x0 + width, y0 + height), XYZ rows."""
    native: int
    zoom: int
    x0: int
    y0: int
    width: int
    height: int
    bits: np.ndarray  # bool, (height, width)

    def to_json(self) -> dict:
        packed = np.packbits(self.bits.ravel())
        return {"native": self.native, "zoom": self.zoom, "x0": self.x0, "y0": self.y0, "width": self.width,
                "height": self.height, "bits": base64.b64encode(packed.tobytes()).decode("ascii")}

    def lonlat_bounds(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) in degrees of the box."""
        west, north = tile_corner(self.x0, self.y0, self.zoom)
        east, south = tile_corner(self.x0 + self.width, self.y0 + self.height, self.zoom)
        return west, south, east, north

    def focus(self) -> tuple[float, float]:
        """(lat, lon) of the centre of the covered tile nearest the middle of the box."""
        ys, xs = np.nonzero(self.bits)
        i = int(np.argmin((ys - (self.height - 1) / 2) ** 2 + (xs - (self.width - 1) / 2) ** 2))
        lon, lat = tile_corner(self.x0 + xs[i] + 0.5, self.y0 + ys[i] + 0.5, self.zoom)
        return lat, lon


@dataclass(frozen=True)
class MapLayer:
    """One tile layer of the page: `url` is a Leaflet template relative to the page."""
    name: str
    url: str
    tms: bool
    zooms: tuple[int, ...]
    coverage: tuple[Coverage, ...]  # one per zoom that holds a tile
    pixelated: bool = False  # the input: its pixels shown as squares when enlarged past its finest zoom

    @property
    def finest(self) -> Coverage | None:
        """The mask of the finest zoom holding a tile (None: the layer has no tile)."""
        return max(self.coverage, key=lambda c: c.native, default=None)

    def to_json(self, min_zoom: int) -> dict:
        return {"name": self.name, "url": self.url, "tms": self.tms, "minNativeZoom": min(self.zooms),
                "maxNativeZoom": max(self.zooms), "minZoom": min_zoom, "pixelated": self.pixelated,
                "coverage": [c.to_json() for c in self.coverage]}


def tree_zooms(tile_dir: str | Path) -> list[int]:
    """The zoom folders of a tile tree (integer-named folders)."""
    with os.scandir(tile_dir) as it:
        return sorted(int(e.name) for e in it if _DIGITS.match(e.name) and e.is_dir())


def iter_tile_names(tile_dir: str | Path, zoom: int, row_scheme: str) -> Iterator[tuple[int, int, str]]:
    """(x, XYZ row, extension) of each file of tile_dir/zoom named as a tile, one x folder at a time (none where
    the zoom folder is absent; names outside [0, 2^zoom) are no tile, as the index says)."""
    zoom_dir = Path(tile_dir) / str(zoom)
    if not zoom_dir.is_dir():
        return
    n = 1 << zoom
    with os.scandir(zoom_dir) as xs:
        for xe in xs:
            if not (_DIGITS.match(xe.name) and int(xe.name) < n and xe.is_dir()):
                continue
            with os.scandir(xe.path) as ys:
                for ye in ys:
                    stem, ext = os.path.splitext(ye.name)
                    if _DIGITS.match(stem) and int(stem) < n and ext.lower() in EXTENSIONS:
                        y = int(stem)
                        yield int(xe.name), tms_to_xyz_row(zoom, y) if row_scheme == "tms" else y, ext


def tile_extension(tile_dir: str | Path, zoom: int, row_scheme: str) -> str:
    for _, _, ext in iter_tile_names(tile_dir, zoom, row_scheme):
        return ext
    raise ValueError(f"{Path(tile_dir) / str(zoom)} holds no tile named z/x/y.ext")


def _extent(tile_dir: Path, zoom: int, row_scheme: str) -> tuple[int, int, int, int] | None:
    x0 = y0 = None
    for x, y, _ in iter_tile_names(tile_dir, zoom, row_scheme):
        if x0 is None:
            x0, y0, x1, y1 = x, y, x, y
        else:
            x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
    return None if x0 is None else (x0, y0, x1, y1)


def coverage(tile_dir: str | Path, zoom: int, row_scheme: str, max_bits: int = MAX_MASK_BITS) -> Coverage | None:
    """The tiles of tile_dir/zoom: a bit per tile of their box, or per tile of the first coarser zoom where the box
    has at most `max_bits` bits. Two passes over the file names; memory one bit per tile of the box. None: no tile."""
    tile_dir = Path(tile_dir)
    box = _extent(tile_dir, zoom, row_scheme)
    if box is None:
        return None
    k = 0
    while ((box[2] >> k) - (box[0] >> k) + 1) * ((box[3] >> k) - (box[1] >> k) + 1) > max_bits:
        k += 1
    x0, y0 = box[0] >> k, box[1] >> k
    bits = np.zeros(((box[3] >> k) - y0 + 1, (box[2] >> k) - x0 + 1), bool)
    for x, y, _ in iter_tile_names(tile_dir, zoom, row_scheme):
        bits[(y >> k) - y0, (x >> k) - x0] = True
    return Coverage(zoom, zoom - k, x0, y0, bits.shape[1], bits.shape[0], bits)


def _relative_url(target: Path, page_dir: Path) -> str:
    """`target` as a URL relative to the page (each path part quoted), or a file:// URI where none exists."""
    try:
        rel = Path(os.path.relpath(target.resolve(), page_dir.resolve()))
    except ValueError:  # another drive
        return target.resolve().as_uri()
    return "/".join(quote(p) for p in rel.as_posix().split("/")) if rel.as_posix() != "." else ""


def tree_layer(name: str, tile_dir: str | Path, page_dir: str | Path, row_scheme: str,
               zooms: Sequence[int] | None = None, pixelated: bool = False, ext: str | None = None) -> MapLayer:
    """A tile tree as a layer of the page in page_dir: its zooms (all its zoom folders by default), a coverage mask
    per zoom that holds a tile, and its tile file extension (read from the tree unless given)."""
    tile_dir = Path(tile_dir)
    zooms = tuple(sorted(zooms or tree_zooms(tile_dir)))
    if not zooms:
        raise ValueError(f"{tile_dir} holds no zoom folder")
    ext = ext or tile_extension(tile_dir, max(zooms), row_scheme)
    base = _relative_url(tile_dir, Path(page_dir))
    url = (base + "/" if base else "") + "{z}/{x}/{y}" + ext
    masks = tuple(c for c in (coverage(tile_dir, z, row_scheme) for z in zooms) if c is not None)
    return MapLayer(name, url, row_scheme == "tms", zooms, masks, pixelated)


def _static(name: str) -> str:
    return (resources.files("rockzoom.generation") / "static" / name).read_text(encoding="utf-8")


def _leaflet_css() -> str:
    """leaflet.css with its images as data URIs (the page is one file)."""
    images = resources.files("rockzoom.generation") / "static" / "leaflet" / "images"

    def inline(m: re.Match) -> str:
        data = base64.b64encode((images / m.group(1)).read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{data})"

    return re.sub(r"url\(images/([A-Za-z0-9_.-]+\.png)\)", inline, _static("leaflet/leaflet.css"))


def _leaflet_js() -> str:
    return re.sub(r"^//# sourceMappingURL=.*$", "", _static("leaflet/leaflet.js"), flags=re.M)


def _script_json(obj) -> str:
    return json.dumps(obj, indent=1).replace("</", "<\\/")


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<!-- Leaflet 1.9.4 (https://leafletjs.com), written into this page by rockzoom. Its licence:
{licence}-->
<style>
{leaflet_css}
</style>
<style>
html, body {{ margin: 0; height: 100%; font: 13px/1.35 sans-serif; }}
#map {{ position: absolute; inset: 0; background-color: #fff;
  background-image: linear-gradient(45deg, #ccc 25%, transparent 25%, transparent 75%, #ccc 75%),
    linear-gradient(45deg, #ccc 25%, transparent 25%, transparent 75%, #ccc 75%);
  background-size: 16px 16px; background-position: 0 0, 8px 8px; }}
.rz-pixelated img {{ image-rendering: pixelated; }}
#divider {{ position: absolute; top: 0; bottom: 0; width: 4px; margin-left: -2px; background: #fff;
  box-shadow: 0 0 3px #000; z-index: 700; cursor: ew-resize; touch-action: none; }}
#divider::after {{ content: "\\2194"; position: absolute; top: 50%; left: -13px; width: 30px; height: 30px;
  margin-top: -15px; border-radius: 15px; background: #fff; box-shadow: 0 0 3px #000; text-align: center;
  line-height: 30px; font-size: 18px; }}
#panel {{ position: absolute; top: 10px; right: 10px; z-index: 800; max-width: 360px; padding: 8px 10px;
  background: rgba(255, 255, 255, 0.94); border-radius: 4px; box-shadow: 0 1px 5px rgba(0, 0, 0, 0.4); }}
#panel h1 {{ font-size: 14px; margin: 0 0 6px; }}
#panel label {{ display: block; margin: 3px 0; }}
#panel select {{ max-width: 250px; }}
#zooms button {{ margin: 2px 2px 0 0; padding: 1px 5px; }}
#zooms button.rz-on {{ font-weight: bold; background: #333; color: #fff; }}
#panel details {{ margin-top: 6px; }}
.rz-legend {{ display: inline-block; width: 12px; height: 12px; vertical-align: -2px;
  background: repeating-conic-gradient(#ccc 0 25%, #fff 0 50%) 0 0 / 6px 6px; border: 1px solid #999; }}
code {{ font-size: 11px; word-break: break-all; }}
</style>
</head>
<body>
<div id="map"><div id="divider" title="drag to move the swipe"></div></div>
<div id="panel">
<h1>{title}</h1>
<label>left <select id="left"></select></label>
<label>right <select id="right"></select></label>
<label>view <select id="mode"><option value="swipe">swipe (left | right)</option>
<option value="left">left only</option><option value="right">right only</option></select></label>
<div id="zooms" title="the zoom levels the layers hold"></div>
<div id="view"></div>
<div><span class="rz-legend"></span> no data: no tile in the layer there, or no-data pixels</div>
<details><summary>zooms and files</summary>{details}</details>
</div>
<script id="rockzoom-config" type="application/json">
{config}
</script>
<script>
{leaflet_js}
</script>
<script>
{page_js}
</script>
</body>
</html>
"""


def map_page_html(title: str, layers: Sequence[MapLayer], *, start_zoom: int, left: int = 0, right: int = 1,
                  notes: Sequence[str] = ()) -> str:
    """The page of `layers` (at least one); it opens at `start_zoom` on a covered tile of the right layer. `notes`
    are HTML lines of its "zooms and files" fold."""
    if not layers:
        raise ValueError("a map page needs at least one layer")
    right = min(right, len(layers) - 1)
    min_zoom = min(min(layer.zooms) for layer in layers)
    max_zoom = max(max(layer.zooms) for layer in layers)
    focus_from = layers[right].finest or next((la.finest for la in layers if la.finest), None)
    focus = list(focus_from.focus()) if focus_from else [0.0, 0.0]
    # an upscaled layer is drawn from one zoom above its own (its tiles reduced), never further out: that many tiles
    layer_json = [la.to_json(min_zoom if la.pixelated else max(min_zoom, min(la.zooms) - 1)) for la in layers]
    config = {"title": title, "layers": layer_json, "minZoom": min_zoom, "maxZoom": max_zoom,
              "startZoom": start_zoom, "focus": focus, "left": left, "right": right}
    items = [f"<li>{html.escape(la.name)}: zooms {min(la.zooms)}&ndash;{max(la.zooms)}, "
             f"<code>{html.escape(la.url)}</code> ({'TMS' if la.tms else 'XYZ'} rows)</li>" for la in layers]
    items += [f"<li>{n}</li>" for n in notes]
    return _PAGE.format(title=html.escape(title), licence=html.escape(_static("leaflet/LICENSE")),
                        leaflet_css=_leaflet_css(), details="<ul>" + "".join(items) + "</ul>",
                        config=_script_json(config), leaflet_js=_leaflet_js(), page_js=_static("map_page.js"))


def pyramid_layers(out_dir: str | Path, tile_dir: str | Path, *, zoom: int, scale: int, row_scheme: str,
                   method: str, others: Sequence[tuple[str, str | Path]] = ()) -> tuple[list[MapLayer], int, list[str]]:
    """The layers of the page beside the pyramid in out_dir (zooms zoom+1 .. zoom+log2(scale), made by `method`):
    the input tree tile_dir at its zooms up to `zoom` (a GeoTIFF input has no tree to show), this pyramid, and the
    other pyramids of the same input, `others` = [(method, dir)]. Returns (layers, index of this pyramid, notes)."""
    out_dir = Path(out_dir)
    out_zooms = list(range(zoom + 1, zoom + scale.bit_length()))
    span = f"x{scale} (z{out_zooms[0]}-{out_zooms[-1]})"
    layers, notes = [], []
    if geotiff_source.is_geotiff(tile_dir):
        notes.append(f"the input is a GeoTIFF ({html.escape(Path(tile_dir).name)}): it has no tile tree to show")
    else:
        in_zooms = [z for z in tree_zooms(tile_dir) if z <= zoom]
        layers.append(tree_layer(f"input (z{in_zooms[0]}-{zoom})", tile_dir, out_dir, row_scheme, zooms=in_zooms,
                                 pixelated=True))
    main = len(layers)
    layers.append(tree_layer(f"{method} {span}", out_dir, out_dir, row_scheme, zooms=out_zooms, ext=".png"))
    layers += [tree_layer(f"{name} {span}", d, out_dir, row_scheme, zooms=out_zooms, ext=".png") for name, d in others]
    y = "{-y}" if row_scheme == "tms" else "{y}"
    notes.append(f'QGIS: Layer &gt; Add Layer &gt; XYZ Tiles, URL <code class="rz-here" data-tail="{{z}}/{{x}}/{y}.png">'
                 f'file:///&lt;this folder&gt;/{{z}}/{{x}}/{y}.png</code>'
                 + (" (tilemapresource.xml beside it: TMS, as gdal2tiles writes)" if row_scheme == "tms" else ""))
    return layers, main, notes


def write_map_page(out_dir: str | Path, title: str, layers: Sequence[MapLayer], *, start_zoom: int, right: int,
                   notes: Sequence[str] = ()) -> Path:
    """out_dir/index.html (written through a temporary name): the input (layer 0) swiped against layer `right`."""
    page = Path(out_dir) / PAGE_NAME
    tmp = page.with_name(f".{PAGE_NAME}.tmp")
    tmp.write_text(map_page_html(title, layers, start_zoom=start_zoom, left=0, right=right, notes=notes),
                   encoding="utf-8")
    os.replace(tmp, page)
    logger.info(f"map page {page}: {len(layers)} layers, zooms {min(min(la.zooms) for la in layers)}-"
                f"{max(max(la.zooms) for la in layers)}")
    return page
