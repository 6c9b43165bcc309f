"""The blind side-by-side sheet: pairs, key, answers template and the fool rate with its interval."""
import csv

import numpy as np
import pytest
from PIL import Image

from rockzoom.cli import main
from rockzoom.generation import blind_test


def _sets(n=20, size=16):
    rng = np.random.default_rng(0)
    real = rng.integers(0, 100, (n, size, size, 3), dtype=np.uint8)  # dark
    gen = rng.integers(156, 256, (n, size, size, 3), dtype=np.uint8)  # bright: which side is which is known
    return real, gen


def _key(tmp_path):
    with (tmp_path / blind_test.KEY_CSV).open() as f:
        return {int(r["pair"]): r["real_side"] for r in csv.DictReader(f)}


def test_sheet_pairs_a_real_and_a_generated_tile_in_random_order(tmp_path):
    real, gen = _sets()
    key = blind_test.write_sheet(real, gen, tmp_path, n=16, seed=3, columns=2, gap=6, pair_gap=24)
    sheet = np.asarray(Image.open(tmp_path / blind_test.SHEET_PNG).convert("RGB"))
    sides = {k["real_side"] for k in key}
    assert len(key) == 16 and sides == {"L", "R"}
    for k in key:  # the real tile sits on the side the key names: dark pixels there, bright on the other
        p = k["pair"] - 1
        x0, y0 = 24 + (p % 2) * (2 * 16 + 6 + 24), 24 + (p // 2) * (16 + 18 + 24) + 18
        left, right = sheet[y0:y0 + 16, x0:x0 + 16], sheet[y0:y0 + 16, x0 + 22:x0 + 38]
        real_px, gen_px = (left, right) if k["real_side"] == "L" else (right, left)
        assert np.array_equal(real_px, real[k["real_index"]]) and np.array_equal(gen_px, gen[k["generated_index"]])
    assert len({k["real_index"] for k in key}) == 16  # no tile twice
    template = (tmp_path / blind_test.ANSWERS_TEMPLATE).read_text()
    assert "L or R" in template and template.count("\n") >= 16
    again = blind_test.write_sheet(real, gen, tmp_path / "b", n=16, seed=3)
    assert again == key  # seeded


def test_score_counts_the_pairs_where_the_generated_tile_was_picked(tmp_path, capsys):
    real, gen = _sets()
    blind_test.write_sheet(real, gen, tmp_path, n=16, seed=1)
    key = _key(tmp_path)
    flip = {"L": "R", "R": "L"}
    answers = {p: (flip[s] if p in (2, 5, 9, 11) else s) for p, s in key.items()}  # fooled on 4 pairs
    path = tmp_path / "answers.txt"
    path.write_text("# my answers\n" + "\n".join(f"{p} {a}" for p, a in answers.items()) + "\n")
    r = blind_test.score(tmp_path, path)
    assert r["fooled"] == 4 and r["fool_rate"] == 0.25 and r["fooled_pairs"] == [2, 5, 9, 11]
    assert 0.05 < r["ci_low"] < 0.25 < r["ci_high"] < 0.55
    one_line = tmp_path / "line.txt"
    one_line.write_text("".join(key[p] for p in sorted(key)))  # every answer right
    assert blind_test.score(tmp_path, one_line)["fooled"] == 0
    assert main(["score-sheet", str(tmp_path), str(path)]) == 0
    assert "fool rate 25% (4 of 16 pairs" in capsys.readouterr().out


@pytest.mark.parametrize("text,message", [("1 L\n1 R\n", "answered twice"), ("1 L\n", "no answer for pair"),
                                          ("1 maybe\n", "cannot read answer line"), ("LLR\n", "3 answers")])
def test_bad_answers_are_one_line_errors(tmp_path, capsys, text, message):
    real, gen = _sets()
    blind_test.write_sheet(real, gen, tmp_path, n=16, seed=0)
    bad = tmp_path / "bad.txt"
    bad.write_text(text)
    with pytest.raises(ValueError, match=message):
        blind_test.score(tmp_path, bad)
    assert main(["score-sheet", str(tmp_path), str(bad)]) == 2
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("rockzoom score-sheet")]
    assert len(err) == 1 and "bad.txt" in err[0]  # one line, no traceback


def test_missing_key_is_named(tmp_path):
    (tmp_path / "a.txt").write_text("LR")
    with pytest.raises(FileNotFoundError, match="real_or_generated_key.csv"):
        blind_test.score(tmp_path, tmp_path / "a.txt")
