"""The page of a generated option (rockzoom.generation.sheet_page): samples in a grid with thumbnails in the page and
links to the full-size PNGs, the sheets of the folder, the blind test's keys behind a fold."""
from __future__ import annotations

import base64
import io
import json
import re

import numpy as np
import pytest
from PIL import Image

from browser import Chromium, find_chromium
from rockzoom.generation.sheet_page import write_option_page

CHROMIUM = find_chromium()


@pytest.fixture
def option_dir(tmp_path):
    root = tmp_path / "option_x"
    (root / "samples").mkdir(parents=True)
    colours = [(200, 30, 30), (30, 200, 30), (30, 30, 200)]
    for i, c in enumerate(colours):
        Image.new("RGB", (512, 512), c).save(root / "samples" / f"sample_{i:03d}.png")
    Image.new("RGB", (1024, 256), (90, 90, 90)).save(root / "contact_sheet.png")
    Image.new("RGB", (800, 400), (10, 120, 200)).save(root / "real_or_generated.png")
    (root / "real_or_generated_key.csv").write_text("cell,truth\n0,real\n")
    (root / "provenance.json").write_text(json.dumps({"sampler": "gmm", "seed": 3, "native_size": 128,
                                                      "upscale": "sr", "output_size": 512}))
    return root, colours


def _figures(text):
    return re.findall(r'<a href="([^"]+)"[^>]*><img src="data:image/jpeg;base64,([^"]+)"', text)


def test_page_holds_thumbnails_links_sheets_and_keys(option_dir):
    root, colours = option_dir
    page = write_option_page(root, option="option_x", thumb=64)
    text = page.read_text()
    figures = _figures(text)
    hrefs = [h for h, _ in figures]
    assert hrefs == ["samples/sample_000.png", "samples/sample_001.png", "samples/sample_002.png",
                     "contact_sheet.png", "real_or_generated.png"]
    for (href, data), colour in zip(figures, colours):  # each thumbnail is its sample, small
        thumb = Image.open(io.BytesIO(base64.b64decode(data)))
        assert max(thumb.size) == 64 and (root / href).exists()
        assert np.abs(np.asarray(thumb, float).mean(axis=(0, 1)) - colour).max() < 3
    sheet = Image.open(io.BytesIO(base64.b64decode(figures[3][1])))
    assert sheet.size == (768, 192)  # sheets: larger thumbnails, aspect kept
    assert re.search(r"<details>.*real_or_generated_key\.csv.*</details>", text, re.S)  # the key behind a fold
    assert "sampler gmm" in text and 'href="provenance.json"' in text
    assert "Samples (3)" in text and not re.search(r"(src|href)=\"https?:", text)


def test_page_without_sheets_or_keys(tmp_path):
    (tmp_path / "samples").mkdir()
    Image.new("RGB", (64, 64)).save(tmp_path / "samples" / "sample_000.png")
    text = write_option_page(tmp_path, option="t").read_text()
    assert len(_figures(text)) == 1 and "<details>" not in text and "Sheets" not in text


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed (Debian: apt-get install chromium)")
def test_page_shows_every_image_in_chromium(option_dir, tmp_path):
    root, _ = option_dir
    page = write_option_page(root, option="option_x", thumb=64)
    with Chromium(CHROMIUM) as b:
        b.open(page.as_uri())
        b.wait_for("document.readyState === 'complete'")
        sizes = b.evaluate("Array.from(document.images).map(function (i) { return i.naturalWidth; })")
        assert len(sizes) == 5 and all(w > 0 for w in sizes)
        b.evaluate("document.querySelector('a[href=\"samples/sample_001.png\"]').click()")  # full size
        b.wait_for("location.href.endsWith('sample_001.png') && document.images[0].naturalWidth === 512")
        assert b.console_errors() == []
