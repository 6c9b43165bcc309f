"""gdal2tiles' tilemapresource.xml (TMS) for a web-mercator tile pyramid."""
from __future__ import annotations

import math
from xml.sax.saxutils import escape

# metres per pixel of a 256 px web-mercator tile at zoom 0 (gdal2tiles' GlobalMercator.initialResolution)
INITIAL_RESOLUTION = 2 * math.pi * 6378137 / 256


def units_per_pixel(zoom: int) -> float:
    return INITIAL_RESOLUTION / 2 ** zoom


def tilemap_xml(title: str, zooms: list[int], bounds: tuple[float, float, float, float] | None = None) -> str:
    """The TileMap document of the given zoom levels, each with gdal2tiles' units-per-pixel (metres). With
    `bounds` = (west, south, east, north) in degrees, also gdal2tiles' Abstract, BoundingBox and Origin, which its
    mercator profile writes in degrees (minx = west, miny = south; Origin = the south-west corner)."""
    tilesets = "\n".join(f'    <TileSet href="{z}" units-per-pixel="{units_per_pixel(z):.14g}" order="{z}" />'
                         for z in sorted(zooms))
    extent = "  <SRS>EPSG:3857</SRS>\n"
    if bounds is not None:
        w, s, e, n = bounds
        extent = (f'  <Abstract></Abstract>\n  <SRS>EPSG:3857</SRS>\n'
                  f'  <BoundingBox minx="{w:.14f}" miny="{s:.14f}" maxx="{e:.14f}" maxy="{n:.14f}" />\n'
                  f'  <Origin x="{w:.14f}" y="{s:.14f}" />\n')
    return f"""<?xml version="1.0" encoding="utf-8"?>
<TileMap version="1.0.0" tilemapservice="http://tms.osgeo.org/1.0.0">
  <Title>{escape(title)}</Title>
{extent}  <TileFormat width="256" height="256" mime-type="image/png" extension="png" />
  <TileSets profile="mercator">
{tilesets}
  </TileSets>
</TileMap>
"""
