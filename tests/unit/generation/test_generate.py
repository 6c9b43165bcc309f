"""The generate stage on a tiny untrained pipeline: files, provenance, determinism, upscaler choice."""
import json

import numpy as np
import pytest
from tiny_pipeline import make_tiny_pipeline, read_pngs

from rockzoom.generation.generate import generate, make_upscaler
from rockzoom.util.hashing import file_sha256


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    return make_tiny_pipeline(tmp_path_factory.mktemp("tiny"))


def _generate(p, out, seed=0, **kw):
    return generate(p["ae"], p["prior"], p["latents"], out, sampler="gmm", n=3, seed=seed, device="cpu", **kw)


def test_generate_upscales_writes_samples_and_provenance(pipeline, tmp_path):
    prov = _generate(pipeline, tmp_path / "a", upscale="sr", scale=4, sr_model=pipeline["sr"],
                     real_dir=pipeline["data256"], tile=32, overlap=8)
    images = read_pngs(tmp_path / "a" / "samples")
    assert len(images) == 3 and all(im.shape == (256, 256, 3) for im in images)
    assert (tmp_path / "a" / "contact_sheet.png").exists()
    saved = json.loads((tmp_path / "a" / "provenance.json").read_text())
    assert saved == json.loads(json.dumps(prov))
    assert saved["native_size"] == 64 and saved["output_size"] == 256 and saved["scale"] == 4
    assert saved["checkpoints"]["sr"]["sha256"] == file_sha256(pipeline["sr"])
    assert saved["checkpoints"]["autoencoder"]["sha256"] == file_sha256(pipeline["ae"])
    checks = saved["checks"]
    assert 0.0 <= checks["flat_fraction"] <= 1.0 and checks["nn_ratio_samples_to_test"] > 0
    assert checks["spectrum_distance_db_to_real"] >= 0 and "test split, 6 images" in checks["real_reference"]


def test_generate_is_deterministic_for_a_seed(pipeline, tmp_path):
    _generate(pipeline, tmp_path / "a", seed=1)
    _generate(pipeline, tmp_path / "b", seed=1)
    _generate(pipeline, tmp_path / "c", seed=2)
    a, b, c = (np.stack(read_pngs(tmp_path / x / "samples")) for x in "abc")
    assert a.shape == (3, 64, 64, 3)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_generate_says_why_realism_is_not_measured_without_the_judges_real_tiles(pipeline, tmp_path):
    prov = _generate(pipeline, tmp_path / "a", upscale="lanczos", scale=4, realism={"max_images": 8})
    assert prov["realism"]["measured"] is False and "no real 256 px tiles" in prov["realism"]["why"]
    assert "realism" not in _generate(pipeline, tmp_path / "b")  # no settings, no entry


def test_make_upscaler_choices(pipeline):
    assert make_upscaler("none", 1, None, "cpu") is None
    assert make_upscaler("lanczos", 4, None, "cpu").scale == 4
    assert make_upscaler("sr", 4, pipeline["sr"], "cpu").scale == 4
    with pytest.raises(ValueError, match="needs a trained SR checkpoint"):
        make_upscaler("sr", 4, None, "cpu")
    with pytest.raises(ValueError, match="upscale must be one of"):
        make_upscaler("nearest", 4, None, "cpu")


def test_generate_with_detail_records_each_sample_layout(pipeline, tmp_path):
    from rockzoom.texture.stage import build_patch_banks

    banks = tmp_path / "banks.pt"
    build_patch_banks(pipeline["data64"], banks, levels=3, factor=0.75, patch=5, bank_size=256, seed=0)
    detail = {"banks": str(banks), "synthesis": {"lock": None, "min_layout_db": 30.0}}
    prov = _generate(pipeline, tmp_path / "d", detail=detail)
    layout = prov["checks"]["layout"]
    assert layout["view"] == 8 and len(layout["psnr_db"]) == 3
    assert layout["min_db"] >= 30.0 and layout["mean_db"] >= layout["min_db"]
    assert prov["detail"]["min_layout_db"] == 30.0
