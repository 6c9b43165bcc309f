"""The benchmark table on a tiny pipeline: every row kind, scores equal to the shared evaluator's, and chain errors."""
import numpy as np
import pandas as pd
import pytest
from tiny_pipeline import make_tiny_pipeline

from rockzoom.data.store import load_split
from rockzoom.generation.benchmark import COLUMNS, build_chain, run_benchmark
from rockzoom.metrics.fidelity import evaluate
from rockzoom.superres.data import make_pairs
from rockzoom.superres.upscale import ClassicalUpscaler


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    return make_tiny_pipeline(tmp_path_factory.mktemp("tiny"))


@pytest.mark.slow
def test_table_rows_and_a_known_score(pipeline, tmp_path):
    s256, s64 = str(pipeline["data256"]), str(pipeline["data64"])
    rows = [
        {"name": "Bicubic", "data_dir": s256, "scale": 4, "upscale": {"method": "bicubic"}},
        {"name": "learned SR", "data_dir": s256, "scale": 4, "upscale": {"checkpoint": str(pipeline["sr"])}},
        {"name": "native 64 AE", "data_dir": s64, "scale": 1, "ae": str(pipeline["ae"])},
        {"name": "pipeline", "data_dir": s256, "scale": 4, "ae": str(pipeline["ae"]),
         "upscale": {"checkpoint": str(pipeline["sr"])}},
    ]
    out = {k: tmp_path / f for k, f in dict(table_csv="t.csv", table_md="t.md", psnr_png="p.png",
                                             spectrum_png="s.png", crops_png="c.png", machine_json="m.json").items()}
    table = run_benchmark(rows, **out, device="cpu")
    assert list(table.columns) == COLUMNS and list(table["method"]) == [r["name"] for r in rows]
    assert list(table["resolution"]) == ["64→256", "64→256", "64", "64→256"]
    assert list(table["n"]) == [6, 6, 6, 6]
    assert all(p.exists() for p in out.values())
    assert pd.read_csv(out["table_csv"])["method"].tolist() == table["method"].tolist()
    assert "| Bicubic |" in out["table_md"].read_text()
    # the Bicubic row is the shared evaluator's score of a plain bicubic x4, border = scale
    pairs = make_pairs(load_split(s256, "test"), 4)
    up = ClassicalUpscaler("bicubic", 4)
    preds = np.stack([np.rint(up.upscale(im.astype(np.float32) / 255) * 255).astype(np.uint8) for im in pairs.lr])
    expected = evaluate(preds, pairs.hr, pairs.hr_mask, border=4)["psnr_pooled"]
    assert table.loc[0, "psnr_pooled"] == pytest.approx(expected, abs=0.02)


def test_chain_errors(pipeline):
    with pytest.raises(ValueError, match="neither an AE nor an upscaler"):
        build_chain({"name": "empty", "scale": 1}, "cpu")
    with pytest.raises(ValueError, match="x4, x2 was asked for"):
        build_chain({"name": "bad", "scale": 2, "upscale": {"checkpoint": str(pipeline["sr"])}}, "cpu")
