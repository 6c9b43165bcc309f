"""`rockzoom upscale` on bad and oversized inputs: one line each on stderr, no traceback; a bad file among several
is named and the rest are written (exit 2 at the end, the count named); --fail-fast stops at the first."""
import struct
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image

from rockzoom.cli import main
from rockzoom.models.registry import SR_NETS
from rockzoom.util.checkpoint import model_checkpoint, save_checkpoint

CLASSICAL = ["--method", "bicubic", "--scale", "2"]


def _bomb(path, width, height):
    """A PNG of a few hundred bytes whose header claims ``width`` x ``height`` RGB pixels (its data ends early)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * (3 * width + 1) * 2)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    return path


def _png(path, seed=0, size=(20, 16)):
    rgb = (np.random.default_rng(seed).random((*size, 3)) * 255).astype(np.uint8)
    Image.fromarray(rgb).save(path)
    return path


def _errors(capsys) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.strip()]


@pytest.mark.parametrize("width", [20000, 10000])  # 10000^2 is past Pillow's own limit: a warning, not an error
def test_a_decompression_bomb_is_refused_from_its_header(tmp_path, capsys, width):
    bomb = _bomb(tmp_path / "bomb.png", width, width)
    assert bomb.stat().st_size < 2000
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Pillow's DecompressionBombWarning would fail the test
        assert main(["upscale", str(bomb), str(tmp_path / "out.png"), *CLASSICAL]) == 2
    (line,) = _errors(capsys)
    assert line.startswith(f"rockzoom upscale: {bomb}: {width}x{width} = {width * width:,} pixels")
    assert "pixel limit 16,777,216 (tiles.max_pixels" in line and "out.tif" in line and "--max-pixels" in line
    assert not (tmp_path / "out.png").exists()


def test_a_bomb_streamed_to_a_tiff_fails_cleanly_at_its_missing_rows(tmp_path, capsys):
    bomb = _bomb(tmp_path / "bomb.png", 20000, 20000)
    assert main(["upscale", str(bomb), str(tmp_path / "out.tif"), *CLASSICAL]) == 2
    err = capsys.readouterr().err
    assert f"rockzoom upscale: {bomb}: cannot read" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bomb.png"]  # no output, no temporary file left


def _folder_with_bad_files(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for i, name in enumerate(["a.png", "c.png", "e.png"]):
        _png(folder / name, seed=i)
    (folder / "b.png").write_bytes(b"not a png")
    good = (folder / "a.png").read_bytes()
    (folder / "d.png").write_bytes(good[: len(good) // 2])  # truncated
    return folder


def test_bad_files_among_many_are_named_and_the_rest_written(tmp_path, capsys):
    folder = _folder_with_bad_files(tmp_path)
    assert main(["upscale", str(folder), str(tmp_path / "out"), *CLASSICAL]) == 2
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "c.png", "e.png"]
    for name in ("a.png", "c.png", "e.png"):
        assert Image.open(tmp_path / "out" / name).size == (32, 40)
    lines = _errors(capsys)
    assert [name for name in ("b.png", "d.png") for line in lines if f"failed {folder / name}:" in line] == [
        "b.png", "d.png"]  # one line each
    assert lines[-1] == "rockzoom upscale: 2 of 5 inputs failed (each named above); the other 3 were written"


def test_fail_fast_stops_at_the_first_bad_file(tmp_path, capsys):
    folder = _folder_with_bad_files(tmp_path)
    assert main(["upscale", str(folder), str(tmp_path / "out"), *CLASSICAL, "--fail-fast"]) == 2
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png"]
    assert _errors(capsys)[-1].startswith(f"rockzoom upscale: {folder / 'b.png'}: cannot read image")


def test_one_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    good = _png(tmp_path / "good.png")
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(good.read_bytes()[:60])
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    corrupt = tmp_path / "model.pt"
    net = SR_NETS.build("rlfn", scale=2, n_blocks=1, n_feats=8)
    save_checkpoint(corrupt, model_checkpoint(kind="sr", config={}, model_kwargs={"arch": "rlfn", "scale": 2,
                    "n_blocks": 1, "n_feats": 8}, state_dict=net.state_dict(), step=0, best_val=None, data_hash=""))
    corrupt.write_bytes(corrupt.read_bytes()[:2000])  # a checkpoint cut short (an interrupted copy)
    cases = {
        "truncated.png": [str(truncated), str(tmp_path / "o.png"), *CLASSICAL],
        "notes.png": [str(text), str(tmp_path / "o.png"), *CLASSICAL],
        "missing.png": [str(tmp_path / "missing.png"), str(tmp_path / "o.png"), *CLASSICAL],
        "model.pt": [str(good), str(tmp_path / "o.png"), "--model", str(corrupt), "--device", "cpu"],
    }
    for name, args in cases.items():
        assert main(["upscale", *args]) == 2, name
        (line,) = _errors(capsys)
        assert line.startswith("rockzoom upscale: ") and name in line, line
    assert not (tmp_path / "o.png").exists()
