
"""benchmarks/gpu_smoke.py --cpu-check: the GPU smoke benchmark's code path (engine training of the AE and SR nets,
torchrun DDP with 2 gloo processes, tiled SR inference, generation) at tiny sizes on the CPU."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_gpu_smoke_cpu_check(tmp_path):
    out = tmp_path / "smoke"
    results = tmp_path / "RESULTS.md"
    run = subprocess.run([sys.executable, str(REPO / "benchmarks/gpu_smoke.py"), "--cpu-check", "--out", str(out),
                          "--append", str(results)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, (run.stdout + run.stderr)[-5000:]
    report = json.loads((out / "smoke.json").read_text())
    assert report["ok"] and report["mode"] == "cpu"
    checks = report["checks"]
    assert not [name for name, r in checks.items() if r.get("skipped")], checks
    ae = [r for name, r in checks.items() if name.startswith("AE train")]
    sr = [r for name, r in checks.items() if name.startswith("SR train")]
    ddp = [r for name, r in checks.items() if name.startswith("DDP torchrun")]
    assert ae and sr and all(r["images_per_s"] > 0 and r["loss_last"] > 0 for r in ae + sr)
    assert ddp and ddp[0]["world_size"] == 2 and ddp[0]["ok"]
    tiled = next(r for name, r in checks.items() if name.startswith("SR inference tiled"))
    assert tiled["out_px"] == 4 * report["params"]["gen_lr"] and tiled["psnr_vs_untiled_db"] > 40
    gen = next(r for name, r in checks.items() if name.startswith("generation"))
    assert gen["ok"] and gen["images_per_s"] > 0
    block = (out / "smoke.md").read_text()
    assert block.startswith("### gpu_smoke:") and "| check | result | images/s | peak VRAM GiB |" in block
    assert results.read_text().strip() == block.strip()
