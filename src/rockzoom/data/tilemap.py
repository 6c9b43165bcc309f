"""gdal2tiles' tilemapresource.xml (TMS) for a web-mercator tile pyramid."""
from __future__ import annotations

import math
from xml.sax.saxutils import escape

# metres per pixel of a 256 px web-mercator tile at zoom 0 (gdal2tiles' GlobalMercator.initialResolution)
INITIAL_RESOLUTION = 2 * math.pi * 6378137 / 256


def units_per_pixel(zoom: int) -> float:
    return INITIAL_RESOLUTION / 2 ** zoom


def tilemap_xml(title: str, zooms: list[int]) -> str:
    """The TileMap document of the given zoom levels, each with gdal2tiles' units-per-pixel (metres)."""
    tilesets = "\n".join(f'    <TileSet href="{z}" units-per-pixel="{units_per_pixel(z):.14g}" order="{z}" />'
                         for z in sorted(zooms))
    return f"""<?xml version="1.0" encoding="utf-8"?>
<TileMap version="1.0.0" tilemapservice="http://tms.osgeo.org/1.0.0">
  <Title>{escape(title)}</Title>
  <SRS>EPSG:3857</SRS>
  <TileFormat width="256" height="256" mime-type="image/png" extension="png" />
  <TileSets profile="mercator">
{tilesets}
  </TileSets>
</TileMap>
"""
