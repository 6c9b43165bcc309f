import xml.etree.ElementTree as ET

import pytest

from rockzoom.data.tilemap import tilemap_xml, units_per_pixel


def test_units_per_pixel_are_gdal2tiles_mercator_metres():
    assert units_per_pixel(0) == pytest.approx(156543.03392804097)
    assert units_per_pixel(23) == pytest.approx(0.018661383858686, rel=1e-12)  # ~1.87 cm, the drone tiles' zoom
    assert units_per_pixel(25) * 4 == pytest.approx(units_per_pixel(23))


def test_tilemap_lists_each_zoom_once_in_order_and_parses():
    root = ET.fromstring(tilemap_xml("x4 <of> zoom 23", [25, 24]))
    sets = root.find("TileSets")
    assert sets.get("profile") == "mercator" and root.findtext("Title") == "x4 <of> zoom 23"
    assert [(s.get("href"), s.get("order")) for s in sets] == [("24", "24"), ("25", "25")]
    assert float(sets[1].get("units-per-pixel")) == pytest.approx(units_per_pixel(25), rel=1e-12)
