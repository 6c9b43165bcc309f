#!/usr/bin/env bash
# One CUDA-machine session's checks (at most 9.7 minutes): gpu_smoke, then what the SR and realism issues ask of a GPU:
#   1. benchmarks/gpu_smoke.sh (bf16 training and generation throughput, DDP, tiled inference);
#   2. the SR quality-per-minute curve with config/gpu.yaml (rlfn and EDSR-baseline on pyramid LR, wall-clock minutes
#      on the GPU, snapshots scored in fp32 on the CPU): what a GPU buys;
#   3. the SR recipe sweep (benchmarks/sr_recipes.py): every variant at the step count its CPU budget buys, trained
#      side by side on the GPU in fp32, so the CPU recipe can be chosen without hours of CPU training;
#   4. option_a's image path per sample on the GPU (benchmarks/bench_detail_device.py): detail stage + SR x4.
# Needs the real tiles (ROCKZOOM_REAL_TILES) and, for 3, the CPU costs JSON (COSTS, from sr_recipes.py
# --measure-costs on the CPU the budget is for). Each part has its own time limit; a failed part does not stop the
# rest, and the script exits non-zero if any failed. Results: $OUT (run.log, smoke.md, curve.csv/png, recipes.csv).
#   OUT=results/gpu_checks benchmarks/gpu_checks.sh
# The sizes can be shrunk for a CPU rehearsal of the same code paths:
#   DEVICE=cpu CURVE_MINUTES="0.05 0.1" BASE_STEPS=20 JOBS=2 N_DETAIL=1 SKIP_SMOKE=1 benchmarks/gpu_checks.sh
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
OUT=${OUT:-results/gpu_checks}
WORK=${WORK:-/tmp/rockzoom-gpu-checks}
DEVICE=${DEVICE:-cuda}
TILES=${ROCKZOOM_REAL_TILES:-../shared/data/rock-tiles}
COSTS=${COSTS:-results/sr_recipes/costs.json}
SR_MODEL=${SR_MODEL:-results/sr/rlfn-x4-h256/model.pt}
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p "$OUT" "$WORK"
LOG="$OUT/run.log"
failed=()

part() {  # part NAME SECONDS CMD...: run with a time limit, log it, remember a failure
  local name=$1 limit=$2
  shift 2
  echo "=== $name (limit ${limit} s) $(date -u +%H:%M:%S)" | tee -a "$LOG"
  local t0=$SECONDS
  timeout "$limit" "$@" 2>&1 | tee -a "$LOG"
  local rc=${PIPESTATUS[0]}
  echo "=== $name: rc $rc in $((SECONDS - t0)) s" | tee -a "$LOG"
  [ "$rc" = 0 ] || failed+=("$name")
}

nvidia-smi -L 2>&1 | tee -a "$LOG" || true
if [ -z "${SKIP_SMOKE:-}" ]; then
  GPU_SMOKE_OUT="$WORK/smoke" part smoke 110 benchmarks/gpu_smoke.sh
  cp "$WORK/smoke/smoke.md" "$OUT/" 2>/dev/null || true
fi
part sr_curve 230 "$PY" benchmarks/bench_sr.py --curve --tiles "$TILES" --work "$WORK/sr" --device "$DEVICE" \
  --clock wall --eval-device cpu --no-self-ensemble --config config/gpu.yaml \
  --curve-minutes ${CURVE_MINUTES:-0.25 0.5 1} --curve-runs rlfn:pyramid edsr:pyramid
cp "$WORK/sr/curve.csv" "$WORK/sr/curve.png" "$OUT/" 2>/dev/null || true
part sr_recipes 180 "$PY" benchmarks/sr_recipes.py --tiles "$TILES" --work "$WORK/sr" --costs "$COSTS" \
  --base-steps "${BASE_STEPS:-2300}" --device "$DEVICE" --jobs "${JOBS:-14}" --threads 1
cp "$WORK/sr/recipes.csv" "$OUT/" 2>/dev/null || true
part detail 60 "$PY" benchmarks/bench_detail_device.py --tiles "$TILES" --work "$WORK/detail" --device "$DEVICE" \
  --sr-model "$SR_MODEL" -n "${N_DETAIL:-8}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "gpu_checks: failed parts: ${failed[*]}" | tee -a "$LOG"
  exit 1
fi
echo "gpu_checks: all parts passed" | tee -a "$LOG"
