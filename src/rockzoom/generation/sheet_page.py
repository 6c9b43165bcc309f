"""The page of a generated option: `results/generated/<option>/index.html`.

The samples in a grid (each a small thumbnail written into the page, so the page shows them wherever it is opened,
the Snakemake report included; a click opens the full-size PNG beside it), then every sheet PNG of the folder
(the contact sheet, the real-or-generated sheets) the same way, and the answer keys of the blind test behind a fold.
One image is held in memory at a time.
"""
from __future__ import annotations

import base64
import html
import io
import json
import logging
import os
from pathlib import Path
from urllib.parse import quote

from PIL import Image

logger = logging.getLogger(__name__)

PAGE_NAME = "index.html"


def thumbnail_uri(path: str | Path, size: int) -> str:
    """A JPEG data URI of the image at most `size` px on its longer side (transparency on white)."""
    with Image.open(path) as im:
        im.thumbnail((size, size), Image.Resampling.LANCZOS)
        rgba = im.convert("RGBA")
    flat = Image.new("RGB", rgba.size, (255, 255, 255))
    flat.paste(rgba, mask=rgba.getchannel("A"))
    buf = io.BytesIO()
    flat.save(buf, "JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(path: Path, root: Path, size: int) -> str:
    href = "/".join(quote(p) for p in path.relative_to(root).as_posix().split("/"))
    with Image.open(path) as im:
        w, h = im.size
    name = html.escape(path.name)
    return (f'<figure><a href="{href}" title="full size: {name} ({w} x {h} px)"><img src="{thumbnail_uri(path, size)}" '
            f'alt="{name}" loading="lazy"></a><figcaption>{name} &middot; {w}&times;{h}</figcaption></figure>')


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font: 14px/1.4 sans-serif; margin: 16px; }}
.grid {{ display: grid; grid-template-columns: repeat(auto-fill, minmax({size}px, 1fr)); gap: 10px; }}
.sheets {{ display: grid; grid-template-columns: repeat(auto-fill, minmax({sheet}px, 1fr)); gap: 10px; }}
figure {{ margin: 0; }}
figure img {{ width: 100%; height: auto; display: block; border: 1px solid #ccc; }}
figcaption {{ font-size: 12px; color: #555; }}
</style>
</head>
<body>
<h1>{title}</h1>
<p>{intro}</p>
<h2>Samples ({n})</h2>
<div class="grid">
{samples}
</div>
{sheets}
{keys}
</body>
</html>
"""


def write_option_page(option_dir: str | Path, *, option: str, thumb: int = 256, sheet_thumb: int = 768) -> Path:
    """index.html of a generated option's folder (samples/*.png, the sheet PNGs beside them, *key* files)."""
    root = Path(option_dir)
    samples = sorted((root / "samples").glob("*.png"))
    sheets = sorted(root.glob("*.png"))
    keys = sorted(p for p in root.iterdir() if p.is_file() and "key" in p.name and p.suffix != ".png")
    intro = "Click an image for the full-size PNG."
    prov = root / "provenance.json"
    if prov.exists():
        p = json.loads(prov.read_text())
        said = {k: p[k] for k in ("sampler", "seed", "native_size", "upscale", "output_size") if k in p}
        if p.get("detail"):
            said["detail"] = "patch synthesis"
        intro += (" Settings: " + ", ".join(f"{k} {html.escape(str(v))}" for k, v in said.items()) + "; "
                  if said else " ") + '<a href="provenance.json">provenance.json</a>.'
    sheets_html = ""
    if sheets:
        sheets_html = ("<h2>Sheets</h2>\n<div class=\"sheets\">\n"
                       + "\n".join(_figure(s, root, sheet_thumb) for s in sheets) + "\n</div>")
    keys_html = ""
    if keys:
        links = ", ".join(f'<a href="{quote(k.name)}">{html.escape(k.name)}</a>' for k in keys)
        keys_html = f"<details><summary>answer keys (open after judging the sheets)</summary><p>{links}</p></details>"
    title = f"rockzoom: generated option {option}"
    text = _PAGE.format(title=html.escape(title), intro=intro, n=len(samples), size=thumb, sheet=min(sheet_thumb, 480),
                        samples="\n".join(_figure(s, root, thumb) for s in samples), sheets=sheets_html,
                        keys=keys_html)
    page = root / PAGE_NAME
    tmp = page.with_name(f".{PAGE_NAME}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, page)
    logger.info(f"option page {page}: {len(samples)} samples, {len(sheets)} sheets, {len(keys)} key files")
    return page
