#!/usr/bin/env bash
# GPU smoke benchmark for any CUDA machine (<= 8 minutes): bf16 AE and SR training steps through rockzoom.engine,
# torchrun DDP (1 process, then one per GPU), tiled 1024 px SR inference, 1024 px generation; images/s, peak VRAM.
#   benchmarks/gpu_smoke.sh                                  # prints the markdown block, writes results/gpu_smoke/
#   benchmarks/gpu_smoke.sh --append FILE.md                 # ... and appends it to FILE.md (docs/gpu.md holds them)
# PYTHON picks the interpreter (default: .venv/bin/python when present, else python3); it needs torch with CUDA.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
nvidia-smi -L 2>/dev/null || echo "gpu_smoke: nvidia-smi not found"
exec timeout "${GPU_SMOKE_TIMEOUT:-480}" "$PY" benchmarks/gpu_smoke.py --out "${GPU_SMOKE_OUT:-results/gpu_smoke}" "$@"
