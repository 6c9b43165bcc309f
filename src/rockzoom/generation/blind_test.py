"""A blind side-by-side test a person can take: the two-alternative forced choice of texture-synthesis papers.

``write_sheet`` lays ``n`` pairs on one PNG, each pair a real tile and a generated one side by side in random order
(``real_or_generated.png``), and writes the key to a separate file (``real_or_generated_key.csv``) and an answers
template (``answers_template.txt``). The person writes, for each pair, the side they think is **real** (L or R),
before opening the key; ``score`` reads those answers and gives the **fool rate**: the share of pairs where the
generated tile was picked as real (0% = always spotted; 50% = a coin toss, as good as indistinguishable), with its
95% Clopper-Pearson interval. ``rockzoom score-sheet SHEET_DIR ANSWERS`` prints it.
"""
from __future__ import annotations

import csv
import logging
import re
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

SHEET_PNG = "real_or_generated.png"
KEY_CSV = "real_or_generated_key.csv"
ANSWERS_TEMPLATE = "answers_template.txt"
KEY_FIELDS = ["pair", "real_side", "real_index", "generated_index"]


def _check(images, name: str) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
        raise ValueError(f"{name} must be uint8 (N, H, W, 3), got {images.dtype} {images.shape}")
    return images


def write_sheet(real, generated, out_dir: str | Path, *, n: int = 16, seed: int = 0, columns: int = 2,
                gap: int = 6, pair_gap: int = 24) -> list[dict]:
    """Write the pairs sheet, its key and an answers template to ``out_dir``; return the key rows."""
    from PIL import Image, ImageDraw

    real, gen = _check(real, "real"), _check(generated, "generated")
    if real.shape[1:] != gen.shape[1:]:
        raise ValueError(f"real {real.shape[1:3]} and generated {gen.shape[1:3]} tiles differ in size")
    if not 1 <= n <= min(len(real), len(gen)):
        raise ValueError(f"a sheet of {n} pairs needs 1 <= n <= min({len(real)} real, {len(gen)} generated)")
    rng = np.random.default_rng(seed)
    ri, gi = rng.choice(len(real), n, replace=False), rng.choice(len(gen), n, replace=False)
    sides = rng.choice(["L", "R"], n)
    h, w = real.shape[1:3]
    label = 18
    pair_w = 2 * w + gap
    rows = -(-n // columns)
    sheet = Image.new("RGB", (columns * pair_w + (columns + 1) * pair_gap, rows * (h + label + pair_gap) + pair_gap),
                      (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    key = []
    for p in range(n):
        x0 = pair_gap + (p % columns) * (pair_w + pair_gap)
        y0 = pair_gap + (p // columns) * (h + label + pair_gap)
        left, right = (real[ri[p]], gen[gi[p]]) if sides[p] == "L" else (gen[gi[p]], real[ri[p]])
        draw.text((x0, y0), f"pair {p + 1}:  L | R", fill=(0, 0, 0))
        sheet.paste(Image.fromarray(left), (x0, y0 + label))
        sheet.paste(Image.fromarray(right), (x0 + w + gap, y0 + label))
        key.append({"pair": p + 1, "real_side": str(sides[p]), "real_index": int(ri[p]),
                    "generated_index": int(gi[p])})
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sheet.save(out / SHEET_PNG)
    with (out / KEY_CSV).open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=KEY_FIELDS)
        writer.writeheader()
        writer.writerows(key)
    (out / ANSWERS_TEMPLATE).write_text(
        f"# Which tile of each pair is REAL? Look at {SHEET_PNG} (not at {KEY_CSV}), write L or R after each pair\n"
        "# number, then run: rockzoom score-sheet " f"{out} <this file>\n"
        + "".join(f"{p + 1} \n" for p in range(n)))
    log.info("blind side-by-side sheet: %d pairs -> %s (key: %s)", n, out / SHEET_PNG, out / KEY_CSV)
    return key


def read_key(sheet_dir: str | Path) -> dict[int, str]:
    path = Path(sheet_dir) / KEY_CSV
    if not path.exists():
        raise FileNotFoundError(f"{path}: no key beside the sheet (write it with the option's realism step)")
    with path.open() as f:
        rows = list(csv.DictReader(f))
    try:
        return {int(r["pair"]): r["real_side"] for r in rows}
    except (KeyError, ValueError) as e:
        raise ValueError(f"{path}: not a sheet key (expected columns {KEY_FIELDS})") from e


def read_answers(path: str | Path, pairs: int) -> dict[int, str]:
    """Answers: one line per pair, ``<pair> <L|R>`` (``1 L``, ``1,R``, ``1: left``), or one line of ``pairs``
    letters (``LRRL...``); blank lines and ``#`` comments are skipped."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: answers file not found")
    lines = [ln.split("#", 1)[0].strip() for ln in path.read_text().splitlines()]
    lines = [ln for ln in lines if ln]
    if len(lines) == 1 and re.fullmatch(r"[LRlr]+", lines[0]):
        letters = lines[0].upper()
        if len(letters) != pairs:
            raise ValueError(f"{path}: {len(letters)} answers for a sheet of {pairs} pairs")
        return {i + 1: c for i, c in enumerate(letters)}
    answers = {}
    for ln in lines:
        m = re.fullmatch(r"(\d+)\s*[,:;]?\s*(l|r|left|right)", ln, flags=re.IGNORECASE)
        if not m:
            raise ValueError(f"{path}: cannot read answer line {ln!r} (expected e.g. '3 L' or '3 R')")
        pair = int(m.group(1))
        if pair in answers:
            raise ValueError(f"{path}: pair {pair} is answered twice")
        answers[pair] = m.group(2)[0].upper()
    missing = sorted(set(range(1, pairs + 1)) - set(answers))
    extra = sorted(set(answers) - set(range(1, pairs + 1)))
    if missing or extra:
        raise ValueError(f"{path}: " + (f"no answer for pair(s) {missing}" if missing else
                                        f"pair(s) {extra} are not on the sheet of {pairs} pairs"))
    return answers


def score(sheet_dir: str | Path, answers_path: str | Path) -> dict:
    """The fool rate of a person's answers (module docstring)."""
    from rockzoom.metrics.realism import clopper_pearson

    key = read_key(sheet_dir)
    answers = read_answers(answers_path, len(key))
    fooled = [p for p in sorted(key) if answers[p] != key[p]]
    n = len(key)
    low, high = clopper_pearson(len(fooled), n)
    return {"pairs": n, "fooled": len(fooled), "fool_rate": len(fooled) / n, "ci_low": low, "ci_high": high,
            "fooled_pairs": fooled}


def format_score(result: dict) -> str:
    return (f"fool rate {result['fool_rate']:.0%} ({result['fooled']} of {result['pairs']} pairs: the generated "
            f"tile picked as real), 95% CI [{result['ci_low']:.0%}, {result['ci_high']:.0%}]; 50% = chance"
            + (f"; fooled on pairs {', '.join(map(str, result['fooled_pairs']))}" if result["fooled_pairs"] else ""))
