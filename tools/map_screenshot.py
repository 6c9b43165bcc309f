"""Open a pyramid's map page (results/pyramid/z*/index.html) in headless Chromium, check every zoom it holds, and
save screenshots: what the README's docs/figures/map_page.png is made with.

    python tools/map_screenshot.py results/pyramid/z25/index.html OUT_DIR [--view '#z=25&split=0.5'] [--size 1200x800]

At each zoom from the page's coarsest to its finest it waits for the tiles, then fails (exit 1, naming them) on any
failed tile, console error or request that is not a local file, or a shown layer holding that zoom that loaded no
tile. It writes OUT_DIR/map_z{Z}.png per zoom and OUT_DIR/view.png of --view (a page hash: z, lat, lng, left, right,
mode = swipe | left | right, split = 0..1).
"""
from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from browser import Chromium, find_chromium  # noqa: E402

logger = logging.getLogger("map_screenshot")


def page_config(page: Path) -> dict:
    m = re.search(r'<script id="rockzoom-config" type="application/json">(.*?)</script>', page.read_text(), re.S)
    return json.loads(m.group(1))


def check_zoom(b: Chromium, cfg: dict, z: int) -> list[str]:
    b.evaluate(f"location.hash = '#z={z}'")
    b.wait_for(f"window.rockzoom.map.getZoom() === {z} && window.rockzoom.idle()")
    stats, shown = b.evaluate("[window.rockzoom.stats, window.rockzoom.layers.map("
                              "function (l) { return window.rockzoom.map.hasLayer(l); })]")
    problems = []
    for layer, s, on in zip(cfg["layers"], stats, shown):
        native = min(max(z, layer["minNativeZoom"]), layer["maxNativeZoom"])
        if s["failed"]:
            problems.append(f"z{z} {layer['name']}: failed tiles {s['failedUrls'][:3]}")
        if on and z >= layer["minZoom"] and not s["loaded"].get(str(native)):
            problems.append(f"z{z} {layer['name']}: no zoom-{native} tile loaded")
        logger.info(f"z{z} {layer['name']}: {'shown' if on else 'hidden'}, loaded {s['loaded']}")
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("page", type=Path)
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--view", default="", help="page hash of the view.png screenshot, e.g. '#z=25&split=0.5'")
    ap.add_argument("--size", default="1200x800")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    binary = find_chromium()
    if binary is None:
        print("no Chromium found (apt-get install chromium, or set ROCKZOOM_CHROMIUM)", file=sys.stderr)
        return 2
    width, height = map(int, args.size.split("x"))
    cfg = page_config(args.page)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    problems = []
    with Chromium(binary, width=width, height=height) as b:
        b.open(args.page.resolve().as_uri())
        b.wait_for("window.rockzoom && window.rockzoom.idle()")
        for z in range(cfg["minZoom"], cfg["maxZoom"] + 1):
            problems += check_zoom(b, cfg, z)
            b.screenshot(args.out_dir / f"map_z{z}.png")
        if args.view:
            b.evaluate(f"location.hash = {json.dumps(args.view)}")
            b.wait_for("window.rockzoom.idle()")
            b.pump(0.5)
            b.screenshot(args.out_dir / "view.png")
            logger.info(f"view {b.evaluate('location.hash')}")
        problems += b.console_errors()
        problems += [f"not a local file: {u}" for u in b.requested_urls() if not u.startswith(("file:", "data:"))]
        logger.info(f"{len(b.requested_urls())} requests")
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
