"""`rockzoom inspect` on the demo tree, whose content is known."""
import json

import pytest
import yaml

from rockzoom.cli import main
from rockzoom.config import load_config
from rockzoom.data.demo import ORIGIN_X, ORIGIN_Y, make_demo_pyramid
from rockzoom.data.inspection import COLOURS, coverage_grid, inspect_with_config
from rockzoom.data.tiles import index_tiles, tms_to_xyz_row


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo") / "tiles"
    make_demo_pyramid(root, tiles_x=8, tiles_y=8)
    # one broken tile in place of a real one, one tile removed: rejected and missing cells on the map
    x, y = ORIGIN_X + 2, ORIGIN_Y + 3
    (root / "23" / str(x) / f"{tms_to_xyz_row(23, y)}.png").write_bytes(b"not a png")
    (root / "23" / str(ORIGIN_X + 5) / f"{tms_to_xyz_row(23, ORIGIN_Y + 6)}.png").unlink()
    return root


def test_inspect_demo_tree(demo):
    cfg = load_config()
    cfg["tiles"]["dir"] = str(demo)
    records, rejected = index_tiles(demo, 23)
    ins = inspect_with_config(demo, cfg, records, rejected)
    s = ins.summary()
    assert s["scheme"] == "tms" and s["zoom_levels"] == {"20": 1, "21": 4, "22": 16, "23": 63}
    assert s["tiles"] == 62 and s["rejected"] == 1
    assert s["grid"]["columns"] == 8 and s["grid"]["rows"] == 8
    assert s["complete_mosaics"]["2048"] == 0  # two tiles short of the one 8x8 group
    full = sum(r.valid_fraction >= cfg["dataset"]["min_valid"] for r in records)
    assert s["complete_mosaics"]["256"] == full
    w, south, e, north = s["extent_lonlat"]
    assert w < e and south < north
    rgb, x0, y0 = coverage_grid(ins)
    assert (x0, y0) == (ORIGIN_X, ORIGIN_Y) and rgb.shape == (8, 8, 3)
    assert tuple(rgb[3, 2]) == COLOURS["rejected"] and tuple(rgb[6, 5]) == COLOURS["missing"]
    for r in records:
        kind = "present" if r.valid_fraction >= 1 else ("no data" if r.valid_fraction == 0 else "partial")
        assert tuple(rgb[r.y - y0, r.x - x0]) == COLOURS[kind]
    assert ins.runnable["option_c"] is not None and "option_c" in " ".join(ins.text().splitlines()[-2:])


def test_inspect_cli_writes_map_summary_and_a_config_that_loads(demo, tmp_path, capsys):
    out = tmp_path / "inspect"
    assert main(["inspect", str(demo), "--out", str(out), "--write-config", str(tmp_path / "mine.yaml")]) == 0
    assert "targets this tree can run:" in capsys.readouterr().out
    for name in ("coverage.png", "histograms.png", "summary.md"):
        assert (out / name).stat().st_size > 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["tiles"] == 62
    overlay = yaml.safe_load((tmp_path / "mine.yaml").read_text())
    cfg = load_config(tmp_path / "mine.yaml")
    assert cfg["tiles"]["dir"] == str(demo) and 2048 not in overlay["dataset"]["sizes"]
    records, rejected = index_tiles(demo, 23)
    ins = inspect_with_config(demo, cfg, records, rejected)
    assert ins.runnable["option_a"] is None and ins.fit is not None
    header = (tmp_path / "mine.yaml").read_text().split("\ntiles:")[0]
    for target, why in ins.runnable.items():  # the header says what the written config runs
        assert (f"{target} ({why})" in header) if why else (target in header.split("cannot run")[0])


def test_inspect_lists_an_isolated_tile_and_leaves_it_out_of_the_map_and_the_split(demo):
    from dataclasses import replace

    cfg = load_config()
    records, rejected = index_tiles(demo, 23)
    stray = replace(records[0], x=ORIGIN_X + 3000, y=ORIGIN_Y - 2000, path="stale/flight.png")
    alone = inspect_with_config(demo, cfg, records, rejected)
    ins = inspect_with_config(demo, cfg, records + [stray], rejected)
    s = ins.summary()
    assert s["isolated_tiles"] == [{"x": ORIGIN_X + 3000, "y": ORIGIN_Y - 2000, "path": "stale/flight.png"}]
    assert alone.summary()["isolated_tiles"] == [] and s["tiles"] == 63
    assert s["grid"] == alone.summary()["grid"] and coverage_grid(ins)[0].shape == (8, 8, 3)  # not 2008 x 3008
    assert s["complete_mosaics"] == alone.summary()["complete_mosaics"]
    assert ins.fit.assignment == alone.fit.assignment and s["split"]["sizes"] == alone.summary()["split"]["sizes"]
    assert "isolated tiles (no indexed neighbour; left out of the split and the datasets): 1" in ins.text()
    assert f"stale/flight.png (x {ORIGIN_X + 3000}, XYZ y {ORIGIN_Y - 2000})" in ins.text()
