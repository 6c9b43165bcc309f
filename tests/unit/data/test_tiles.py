import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rockzoom.data.demo import make_demo_pyramid
from rockzoom.data.tiles import (
    build_index,
    decode_tile,
    index_tiles,
    resolve_scheme,
    tms_to_xyz_row,
)


def write_tile(path, rgba):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgba, mode="RGBA").save(path)


def rgba_tile(value, alpha=255):
    a = np.full((256, 256, 4), value, np.uint8)
    a[..., 3] = alpha
    return a


def test_tms_and_xyz_rows(tmp_path):
    write_tile(tmp_path / "23" / "10" / "5.png", rgba_tile(10))
    recs, rej = index_tiles(tmp_path, 23, scheme="xyz")
    assert (recs[0].x, recs[0].y) == (10, 5) and not rej
    recs, _ = index_tiles(tmp_path, 23, scheme="tms")
    assert recs[0].y == (1 << 23) - 1 - 5 == tms_to_xyz_row(23, 5)
    assert resolve_scheme(tmp_path, "auto") == "xyz"
    (tmp_path / "tilemapresource.xml").write_text("<TileMap/>")
    assert resolve_scheme(tmp_path, "auto") == "tms"
    recs, _ = index_tiles(tmp_path, 23)
    assert recs[0].y == tms_to_xyz_row(23, 5)


def test_every_kind_of_bad_file_is_rejected_with_its_reason(tmp_path):
    z = tmp_path / "23"
    write_tile(z / "1" / "1.png", rgba_tile(100))
    good = (z / "1" / "1.png").read_bytes()
    (z / "1" / "2.png").write_bytes(good[: len(good) // 2])  # truncated
    (z / "1" / "3.png").write_bytes(b"")  # empty
    Image.new("RGB", (300, 300)).save(z / "1" / "4.png")  # wrong size
    (z / "1" / "5.png").write_text("this is not an image")  # text named .png
    Image.new("CMYK", (256, 256)).save(z / "1" / "6.tif")  # unsupported mode
    Image.new("L", (256, 256), 77).save(z / "1" / "7.png")  # grayscale: accepted
    (z / "1" / "notes.txt").write_text("x")  # not a tile name
    (z / "1" / "8.png").write_bytes(good)
    Image.new("RGB", (256, 256)).save(z / "1" / "8.jpg")  # duplicate key
    recs, rej = index_tiles(tmp_path, 23, scheme="xyz", max_pixels=1 << 24)
    reasons = {p.split("/")[-1]: r for p, r in rej}
    assert {r.y for r in recs} == {1, 7, 8}
    assert reasons["2.png"].startswith("truncated")
    assert reasons["3.png"] == "empty file"
    assert reasons["4.png"].startswith("wrong size 300x300")
    assert reasons["5.png"].startswith("undecodable")
    assert reasons["6.tif"] == "unsupported mode CMYK"
    assert reasons["notes.txt"].startswith("not named as a tile")
    dupes = [name for name in ("8.jpg", "8.png") if reasons.get(name, "").startswith("duplicate tile")]
    assert len(dupes) == 1
    grey = next(r for r in recs if r.y == 7)
    assert grey.mode == "L" and grey.valid_fraction == 1.0
    rgb, mask, _ = decode_tile(z / "1" / "7.png")
    assert rgb.shape == (256, 256, 3) and (rgb == 77).all() and mask.all()


def test_decompression_bomb_is_refused(tmp_path):
    Image.new("RGB", (2048, 2048)).save(tmp_path / "big.png")
    with pytest.raises(ValueError, match="decompression bomb"):
        decode_tile(tmp_path / "big.png", max_pixels=1 << 20)


def test_alpha_becomes_the_valid_mask(tmp_path):
    a = rgba_tile(200)
    a[:64, :, 3] = 0
    write_tile(tmp_path / "23" / "3" / "4.png", a)
    recs, _ = index_tiles(tmp_path, 23, scheme="xyz")
    assert recs[0].valid_fraction == pytest.approx(0.75)


def test_index_files_are_written_and_a_tree_without_tiles_fails(tmp_path):
    write_tile(tmp_path / "23" / "1" / "1.png", rgba_tile(5))
    build_index(tmp_path, 23, tmp_path / "o" / "index.csv", tmp_path / "o" / "rejected.csv")
    rows = list(csv.DictReader((tmp_path / "o" / "index.csv").open()))
    assert rows[0]["mode"] == "RGBA" and float(rows[0]["valid_fraction"]) == 1.0
    (tmp_path / "empty" / "23").mkdir(parents=True)
    with pytest.raises(ValueError, match="no usable zoom-23 tile"):
        build_index(tmp_path / "empty", 23, tmp_path / "e.csv", tmp_path / "r.csv")
    with pytest.raises(FileNotFoundError, match="zoom-22"):
        index_tiles(tmp_path, 22)


def test_demo_pyramid_is_deterministic_and_has_no_data(tmp_path):
    make_demo_pyramid(tmp_path / "a", tiles_x=8, tiles_y=8, seed=3)
    make_demo_pyramid(tmp_path / "b", tiles_x=8, tiles_y=8, seed=3)
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.png"))
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*.png"))
    assert files_a == files_b and len(files_a) >= 64
    for rel in files_a[:20]:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()
    assert (tmp_path / "a" / "tilemapresource.xml").exists()
    assert {p.name for p in (tmp_path / "a").iterdir()} >= {"20", "21", "22", "23"}
    recs, rej = index_tiles(tmp_path / "a", 23)
    assert not rej and len(recs) <= 64
    assert min(r.valid_fraction for r in recs) < 1.0  # the no-data bite
    rgb, mask, _ = decode_tile(recs[0].path)
    assert rgb.std() > 10  # textured, not flat


@pytest.mark.parametrize("scheme", ["xyz", "tms"])
def test_out_of_range_indices_and_non_integer_names_are_rejected_with_reasons(tmp_path, scheme):
    z = tmp_path / "4"  # zoom 4: x and y in [0, 16)
    for rel in ("3/15.png", "0/0.png"):  # the last and first valid rows
        write_tile(z / rel, rgba_tile(90))
    for rel in ("3/16.png", "16/2.png", "3/9999994.png", "3/12a.png", "3/1.5.png", "3/-2.png", "x3/2.png",
                "3/\u0663.png"):  # \u0663: ARABIC-INDIC DIGIT THREE, which int() would take
        write_tile(z / rel, rgba_tile(90))  # decodable images: refused for their names alone
    recs, rej = index_tiles(tmp_path, 4, scheme=scheme)
    reasons = {str(Path(p).relative_to(z)): r for p, r in rej}
    last = 0 if scheme == "tms" else 15
    assert sorted((r.x, r.y) for r in recs) == sorted([(3, last), (0, 15 - last)])
    assert reasons["3/16.png"] == "out of range: row y=16 is outside [0, 2^4 = 16) at zoom 4"
    assert reasons["16/2.png"] == "out of range: column x=16 is outside [0, 2^4 = 16) at zoom 4"
    assert reasons["3/9999994.png"].startswith("out of range: row y=9999994")
    for rel, what in (("3/12a.png", "row (y) file name '12a'"), ("3/1.5.png", "row (y) file name '1.5'"),
                      ("3/-2.png", "row (y) file name '-2'"), ("x3/2.png", "column (x) folder 'x3'"),
                      ("3/\u0663.png", "row (y) file name '\u0663'")):
        assert reasons[rel].startswith(f"not named as a tile: {what} is not a non-negative integer"), rel
    assert len(rej) == 8
