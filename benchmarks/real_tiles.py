"""The real rock tiles through the workflow's own dataset stages (index, blocked split, exact mosaics), with the
split settings of config/config.yaml + config/real-tiles.yaml (or another overlay), so benchmarks measure the split the
workflow uses."""
from __future__ import annotations

import logging
import os
from pathlib import Path

import yaml

from rockzoom.data.dataset import build_dataset, make_split
from rockzoom.data.split import check_size
from rockzoom.data.tiles import build_index

REPO = Path(__file__).resolve().parents[1]
DEFAULT_TILES = Path(os.environ.get("ROCKZOOM_REAL_TILES", REPO.parent / "shared" / "data" / "rock-tiles"))
REAL_CONFIG = REPO / "config" / "real-tiles.yaml"
logger = logging.getLogger(__name__)


def real_settings(overlay: Path = REAL_CONFIG) -> dict:
    """tiles/dataset/split of config/config.yaml overlaid by ``overlay`` (one level deep, as Snakemake)."""
    base = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    real = yaml.safe_load(Path(overlay).read_text())
    merged = {k: {**base[k], **real.get(k, {})} for k in ("tiles", "dataset", "split")}
    merged["seed"] = real.get("seed", base["seed"])
    return merged


def _fits(size: int, zoom: int, block_zoom: int) -> bool:
    try:
        check_size(size, zoom, block_zoom)
    except ValueError as e:
        logger.warning("real tiles: no %d px samples: %s", size, e)
        return False
    return True


def build_real_data(tiles: Path, work: Path, sizes: list[int], overlay: Path = REAL_CONFIG) -> dict[int, Path]:
    """results/data/s{S}-style folders for each size under work/data (reused when already built); a size larger than
    the configured split's blocks hold (1024 px at block zoom 22) is left out, with a message."""
    cfg = real_settings(overlay)
    split = cfg["split"]
    if split["block_zoom"] != "auto":
        sizes = [s for s in sizes if _fits(s, cfg["tiles"]["zoom"], int(split["block_zoom"]))]
    tiles_dir = work / "tiles"
    if not (tiles_dir / "blocks.csv").exists():
        build_index(tiles, cfg["tiles"]["zoom"], tiles_dir / "index.csv", tiles_dir / "rejected.csv")
        make_split(tiles_dir / "index.csv", tiles_dir / "blocks.csv", zoom=cfg["tiles"]["zoom"],
                   block_zoom=split["block_zoom"], fractions=split["fractions"], seed=cfg["seed"],
                   sizes=sorted(set(cfg["dataset"]["sizes"]) | set(sizes)), min_valid=cfg["dataset"]["min_valid"],
                   stratify=split["stratify"], guard_tiles=split["guard_tiles"])
    out = {}
    for size in sizes:
        d = work / "data" / f"s{size}"
        if not (d / "summary.json").exists():
            build_dataset(tiles_dir / "index.csv", tiles_dir / "blocks.csv", d, size=size,
                          min_valid=cfg["dataset"]["min_valid"], guard_tiles=split["guard_tiles"])
        out[size] = d
    return out
