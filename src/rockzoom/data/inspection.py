"""`rockzoom inspect`: what a tile tree holds and what rockzoom can do with it, before any training.

Zoom levels and their tile counts, the row scheme, the extent, a coverage map (present / partial no-data / rejected /
missing per tile, with the auto-fitted split's blocks), valid-fraction and brightness histograms, complete mosaics per
size, the split the auto-fit chooses and the targets this tree can run; optionally a starting config. Isolated tiles
(no indexed neighbour: strays, left out of the split) are listed; the extent and the map leave them out.
"""
from __future__ import annotations

import copy
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rockzoom.config.needs import by_size
from rockzoom.data.fit import SplitFit, fit_split
from rockzoom.data.split import complete_groups, isolated_positions, survey_tiles
from rockzoom.data.store import SPLITS
from rockzoom.data.tiles import TILE_SIZE, TileError, TileRecord, parse_tile_name, resolve_scheme, tms_to_xyz_row

logger = logging.getLogger(__name__)

MIN_VALID_CANDIDATES = (0.98, 0.9, 0.75, 0.5)  # --write-config tries these (and the configured one)
COLOURS = {  # coverage map, RGB 0..1
    "missing": (0.88, 0.88, 0.88),
    "present": (0.20, 0.62, 0.30),
    "partial": (0.96, 0.70, 0.20),
    "no data": (0.25, 0.25, 0.25),
    "rejected": (0.85, 0.15, 0.15),
}
SPLIT_EDGES = {"train": "#1f4e9c", "val": "#9c1fa0", "test": "#000000"}


@dataclass
class Inspection:
    tile_dir: str
    zoom: int
    scheme: str
    zoom_counts: dict[int, int]
    records: list[TileRecord]
    rejected: list[tuple[str, str]]
    min_valid: float
    complete: dict[int, int]  # size -> complete mosaics with valid fraction >= min_valid
    fit: SplitFit | None
    fit_error: str | None
    runnable: dict[str, str | None]  # target -> None (runs) or the size that stops it
    isolated: list[TileRecord]  # tiles without an indexed neighbour (split.survey_tiles), left out of the split

    @property
    def survey(self) -> list[TileRecord]:
        lone = {(r.x, r.y) for r in self.isolated}
        return [r for r in self.records if (r.x, r.y) not in lone]

    def summary(self) -> dict:
        survey = self.survey
        xs, ys = [r.x for r in survey], [r.y for r in survey]
        return {
            "tile_dir": self.tile_dir,
            "scheme": self.scheme,
            "zoom_levels": {str(z): n for z, n in sorted(self.zoom_counts.items())},
            "zoom": self.zoom,
            "tiles": len(self.records),
            "rejected": len(self.rejected),
            "isolated_tiles": [{"x": r.x, "y": r.y, "path": r.path} for r in self.isolated],
            "grid": {"x": [min(xs), max(xs)], "y_xyz": [min(ys), max(ys)],
                     "columns": max(xs) - min(xs) + 1, "rows": max(ys) - min(ys) + 1},
            "extent_lonlat": extent_lonlat(self.zoom, min(xs), min(ys), max(xs), max(ys)),
            "ground_m_per_px": ground_resolution(self.zoom, (min(ys) + max(ys)) / 2),
            "valid_fraction": {"full": sum(r.valid_fraction >= 1.0 for r in self.records),
                               "partial": sum(0 < r.valid_fraction < 1.0 for r in self.records),
                               "empty": sum(r.valid_fraction == 0 for r in self.records),
                               "mean": float(np.mean([r.valid_fraction for r in self.records]))},
            "min_valid": self.min_valid,
            "complete_mosaics": {str(s): n for s, n in sorted(self.complete.items())},
            "split": self.fit.to_json() if self.fit else {"error": self.fit_error},
            "targets": {t: ("runs" if why is None else why) for t, why in self.runnable.items()},
        }

    def text(self) -> str:
        s = self.summary()
        g, e = s["grid"], s["extent_lonlat"]
        lines = [
            f"tile tree {self.tile_dir} ({self.scheme.upper()} rows)",
            "zoom levels: " + ", ".join(f"z{z}: {n} files" for z, n in s["zoom_levels"].items()),
            f"zoom {self.zoom}: {s['tiles']} usable tiles, {s['rejected']} rejected, on a {g['columns']} x {g['rows']} "
            f"grid (x {g['x'][0]}-{g['x'][1]}, XYZ y {g['y_xyz'][0]}-{g['y_xyz'][1]}); "
            f"{s['ground_m_per_px'] * 100:.2f} cm/px" + (" (without the isolated tiles)" if self.isolated else ""),
            f"extent (lon/lat): {e[0]:.6f}, {e[1]:.6f} to {e[2]:.6f}, {e[3]:.6f}",
            f"valid fraction: {s['valid_fraction']['full']} tiles full, {s['valid_fraction']['partial']} partial, "
            f"{s['valid_fraction']['empty']} without data (mean {s['valid_fraction']['mean']:.3f})",
            f"complete mosaics with valid fraction >= {self.min_valid}: "
            + ", ".join(f"{k} px: {n}" for k, n in s["complete_mosaics"].items()),
        ]
        if self.isolated:
            lines.append(f"isolated tiles (no indexed neighbour; left out of the split and the datasets): "
                         f"{len(self.isolated)}")
            lines += [f"  {r.path} (x {r.x}, XYZ y {r.y})" for r in self.isolated]
        if self.fit:
            f = self.fit
            lines.append(f"split: block zoom {f.block_zoom} ({'auto-fitted' if f.auto else 'as set'}, "
                         f"{f.block_px} px blocks), blocks train/val/test "
                         + "/".join(str(f.blocks[k]) for k in SPLITS))
            for size, sf in sorted(f.sizes.items()):
                state = "ok" if sf.supported else "NOT SUPPORTED"
                lines.append(f"  s{size}: samples train/val/test " + "/".join(str(sf.counts[k]) for k in SPLITS)
                             + f"  {state}")
            for size in f.unsupported:
                lines.append("  " + f.message(size))
        else:
            lines.append(f"split: {self.fit_error}")
        runs = [t for t, why in self.runnable.items() if why is None]
        stops = {t: why for t, why in self.runnable.items() if why is not None}
        lines.append("targets this tree can run: " + (", ".join(runs) or "none"))
        if stops:
            lines.append("targets it cannot run: " + ", ".join(f"{t} ({why})" for t, why in stops.items()))
        return "\n".join(lines)


def zoom_counts(tile_dir: str | Path) -> dict[int, int]:
    """Files under each numeric zoom folder."""
    root = Path(tile_dir)
    return {int(d.name): sum(1 for p in d.rglob("*") if p.is_file())
            for d in root.iterdir() if d.is_dir() and d.name.isdigit()}


def extent_lonlat(zoom: int, x0: int, y0: int, x1: int, y1: int) -> list[float]:
    """West, south, east, north (degrees) of the XYZ tiles x0..x1, y0..y1."""
    import morecantile

    tms = morecantile.tms.get("WebMercatorQuad")
    a, b = tms.bounds(morecantile.Tile(x0, y0, zoom)), tms.bounds(morecantile.Tile(x1, y1, zoom))
    return [a.left, b.bottom, b.right, a.top]


def ground_resolution(zoom: int, y: float) -> float:
    """Metres per pixel on the ground at XYZ row y (web mercator scale shrinks with cos(latitude))."""
    lat = np.arctan(np.sinh(np.pi * (1 - 2 * (y + 0.5) / (1 << zoom))))
    return float(2 * np.pi * 6378137.0 * np.cos(lat) / (TILE_SIZE << zoom))


def count_complete(records: list[TileRecord], min_valid: float, sizes: list[int]) -> dict[int, int]:
    out = {}
    for size in sizes:
        n = max(1, size // TILE_SIZE)
        out[size] = int(sum(np.mean([m.valid_fraction for m in g]) >= min_valid for g in complete_groups(records, n).values()))
    return out


def runnable_targets(target_needs: dict[str, dict[int, list[str]]], fit: SplitFit | None) -> dict[str, str | None]:
    """Each target: None when every size it needs has its splits, else the first size that stops it."""
    out = {}
    for t, needs in target_needs.items():
        bad = sorted(int(s) for s, splits in needs.items()
                     if fit is None or int(s) not in fit.sizes or any(k in fit.sizes[int(s)].missing for k in splits))
        out[t] = None if not bad else f"needs s{bad[0]}"
    return out


def inspect_tree(tile_dir: str | Path, records: list[TileRecord], rejected: list[tuple[str, str]], *, zoom: int,
                 scheme: str, sizes: list[int], min_valid: float, split: dict, seed: int,
                 target_needs: dict[str, dict[int, list[str]]]) -> Inspection:
    """Inspect an indexed tree: `split` is the config's split section, target_needs
    rockzoom.config.all_target_needs (what each target needs of each size)."""
    if not records:
        raise ValueError(f"no usable zoom-{zoom} tile under {tile_dir}")
    fit, error = None, None
    try:
        fit = fit_split(records, zoom=zoom, block_zoom=split["block_zoom"], sizes=sizes, needs=by_size(target_needs),
                        fractions=split["fractions"], seed=seed, min_valid=min_valid, guard_tiles=split["guard_tiles"],
                        stratify=split["stratify"])
    except ValueError as exc:
        error = str(exc)
    survey, isolated = survey_tiles(records)
    xs, ys = [r.x for r in survey], [r.y for r in survey]
    side = max(max(xs) - min(xs), max(ys) - min(ys)) + 1
    mosaic_sizes = sorted({TILE_SIZE << k for k in range(int(np.log2(side)) + 1)} | {s for s in sizes if s >= TILE_SIZE})
    return Inspection(str(tile_dir), zoom, resolve_scheme(tile_dir, scheme), zoom_counts(tile_dir), records, rejected,
                      min_valid, count_complete(survey, min_valid, mosaic_sizes), fit, error,
                      runnable_targets(target_needs, fit), isolated)


def inspect_with_config(tile_dir: str | Path, cfg: dict, records: list[TileRecord],
                        rejected: list[tuple[str, str]]) -> Inspection:
    from rockzoom.config.needs import all_target_needs

    return inspect_tree(tile_dir, records, rejected, zoom=cfg["tiles"]["zoom"], scheme=cfg["tiles"]["scheme"],
                        sizes=cfg["dataset"]["sizes"], min_valid=cfg["dataset"]["min_valid"], split=cfg["split"],
                        seed=cfg["seed"], target_needs=all_target_needs(cfg))


def starting_config(cfg: dict, records: list[TileRecord], tile_dir: str) -> tuple[dict, dict[str, str | None]]:
    """A config overlay this tree supports: tiles.dir, the highest dataset.min_valid (of MIN_VALID_CANDIDATES) that
    runs the most targets, and dataset.sizes without the sizes that min_valid still cannot support. Returns it with
    the targets it runs."""
    best = None
    for mv in sorted({cfg["dataset"]["min_valid"], *MIN_VALID_CANDIDATES}, reverse=True):
        trial = copy.deepcopy(cfg)
        trial["dataset"]["min_valid"] = mv
        fit = inspect_with_config(tile_dir, trial, records, []).fit
        if fit is None:
            continue
        trial["dataset"]["sizes"] = [s for s in trial["dataset"]["sizes"] if s not in fit.unsupported] or [TILE_SIZE]
        runs = inspect_with_config(tile_dir, trial, records, []).runnable
        score = sum(v is None for v in runs.values())
        if best is None or score > best[0]:
            best = (score, trial, runs)
    if best is None:
        raise ValueError(f"{tile_dir}: no dataset.min_valid of {MIN_VALID_CANDIDATES} gives a usable split")
    _, trial, runs = best
    overlay = {"tiles": {"dir": str(tile_dir), "zoom": trial["tiles"]["zoom"], "scheme": trial["tiles"]["scheme"]},
               "dataset": {"sizes": trial["dataset"]["sizes"], "min_valid": trial["dataset"]["min_valid"]},
               "split": {"block_zoom": "auto"}}
    return overlay, runs


def write_starting_config(path: str | Path, overlay: dict, runs: dict[str, str | None]) -> None:
    import yaml

    ok = [t for t, why in runs.items() if why is None]
    no = [f"{t} ({why})" for t, why in runs.items() if why is not None]
    head = ("# Written by `rockzoom inspect`: a starting overlay of config/config.yaml for this tile tree.\n"
            "#   snakemake -c all option_a --configfile config/config.yaml THIS_FILE\n"
            f"# targets it runs: {', '.join(ok) or 'none'}\n" + (f"# targets it cannot run: {', '.join(no)}\n" if no else ""))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(head + yaml.safe_dump(overlay, sort_keys=False, default_flow_style=None))


def read_rejected(path: str | Path) -> list[tuple[str, str]]:
    """index_tiles' rejected.csv as [(path, reason)]."""
    import csv

    with Path(path).open(newline="") as fh:
        return [(r["path"], r["reason"]) for r in csv.DictReader(fh)]


def tile_xy_of_rejected(tile_dir: str | Path, zoom: int, scheme: str, rejected: list[tuple[str, str]]
                        ) -> list[tuple[int, int]]:
    """XYZ positions of rejected files that are named as tiles (others cannot be placed on the map)."""
    zoom_dir, out = Path(tile_dir) / str(zoom), []
    for path, _ in rejected:
        p = Path(path)
        try:
            x, y = parse_tile_name(zoom_dir, p, zoom)
        except (TileError, ValueError):  # not named as a tile of this zoom, or not under zoom_dir
            continue
        out.append((x, tms_to_xyz_row(zoom, y) if scheme == "tms" else y))
    return out


def coverage_grid(ins: Inspection) -> tuple[np.ndarray, int, int]:
    """RGB image, one pixel per zoom tile over the bounding box of the tiles and the rejected files named as tiles,
    those without a neighbour among them left out (a stray far away would make the map as large as the gap; one
    inside the box is drawn); returns (rgb, x0, y0)."""
    rejected_xy = tile_xy_of_rejected(ins.tile_dir, ins.zoom, ins.scheme, ins.rejected)
    cells = {(r.x, r.y) for r in ins.records} | set(rejected_xy)
    placed = cells - isolated_positions(cells)
    x0, y0 = min(x for x, _ in placed), min(y for _, y in placed)
    h, w = max(y for _, y in placed) - y0 + 1, max(x for x, _ in placed) - x0 + 1
    rgb = np.empty((h, w, 3))
    rgb[:] = COLOURS["missing"]
    kinds = [((r.x, r.y), "present" if r.valid_fraction >= 1.0 else ("no data" if r.valid_fraction == 0 else "partial"))
             for r in ins.records] + [(xy, "rejected") for xy in rejected_xy]
    for (x, y), kind in kinds:
        if 0 <= y - y0 < h and 0 <= x - x0 < w:
            rgb[y - y0, x - x0] = COLOURS[kind]
    return rgb, x0, y0


def write_coverage_map(ins: Inspection, path: str | Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch, Rectangle

    rgb, x0, y0 = coverage_grid(ins)
    h, w = rgb.shape[:2]
    scale = min(0.5, 12.0 / max(w, h))
    fig, ax = plt.subplots(figsize=(max(6.0, w * scale + 3.5), max(3.5, h * scale + 1.5)))
    ax.imshow(rgb, extent=(-0.5, w - 0.5, h - 0.5, -0.5), interpolation="nearest")
    if ins.fit is not None:
        f, shift = ins.fit, ins.zoom - ins.fit.block_zoom
        n = 1 << shift
        for (bx, by), split in f.assignment.items():
            inset = 0.08  # neighbouring blocks' edges side by side, not on top of each other
            ax.add_patch(Rectangle((bx * n - x0 - 0.5 + inset, by * n - y0 - 0.5 + inset), n - 2 * inset,
                                   n - 2 * inset, fill=False, lw=2,
                                   ls="-" if split != "train" else ":", edgecolor=SPLIT_EDGES[split]))
            if split != "train":
                ax.text(bx * n - x0 + n / 2 - 0.5, by * n - y0 + n / 2 - 0.5, split, ha="center", va="center",
                        fontsize=9, color="white", bbox=dict(facecolor=SPLIT_EDGES[split], alpha=0.8, lw=0))
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)
    ax.set_xlabel(f"x - {x0}")
    ax.set_ylabel(f"XYZ y - {y0} (north up)")
    title = f"zoom {ins.zoom}: {len(ins.records)} tiles, {len(ins.rejected)} rejected"
    if ins.isolated:
        title += f", {len(ins.isolated)} isolated"
    if ins.fit is not None:
        title += f"; split blocks at zoom {ins.fit.block_zoom}"
    ax.set_title(title, fontsize=10)
    handles = [Patch(facecolor=c, edgecolor="k", label=k) for k, c in COLOURS.items()]
    handles += [Patch(fill=False, edgecolor=c, ls="-" if k != "train" else ":", lw=2, label=f"{k} block")
                for k, c in SPLIT_EDGES.items()] if ins.fit is not None else []
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_histograms(ins: Inspection, path: str | Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.2))
    a.hist([r.valid_fraction for r in ins.records], bins=np.linspace(0, 1, 21), color="#3a7")
    a.axvline(ins.min_valid, color="k", ls="--", lw=1, label=f"dataset.min_valid {ins.min_valid}")
    a.set_xlabel("valid fraction per tile")
    a.set_ylabel("tiles")
    a.legend(fontsize=8)
    b.hist([r.mean_luma for r in ins.records if r.valid_fraction > 0], bins=np.linspace(0, 255, 33), color="#777")
    b.set_xlabel("mean luma of valid pixels per tile (0-255)")
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_inspection(ins: Inspection, out_dir: str | Path) -> dict[str, Path]:
    """coverage.png, histograms.png, summary.json and summary.md in out_dir."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {"coverage": out / "coverage.png", "histograms": out / "histograms.png",
             "summary": out / "summary.json", "text": out / "summary.md"}
    write_coverage_map(ins, files["coverage"])
    write_histograms(ins, files["histograms"])
    files["summary"].write_text(json.dumps(ins.summary(), indent=2))
    files["text"].write_text("```\n" + ins.text() + "\n```\n")
    return files
