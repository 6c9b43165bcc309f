#!/usr/bin/env bash
# SLURM integration check, called by .ci/run: start a single-node SLURM (tests/slurm/setup_slurm.sh), then run the
# workflow through `--profile profiles/slurm` (tests/workflow/test_slurm.py, marked `slurm`): the datasets and the
# sharded pyramid (>= 4 shard jobs, each COMPLETED in sacct).
# Exit 0 when the test passed or SLURM cannot be set up here (a "SKIP" line says why); non-zero when it failed.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}

if ! "$PY" -c "import snakemake_executor_plugin_slurm" 2>/dev/null; then
    echo "SKIP slurm: snakemake-executor-plugin-slurm is not installed (pip install -e '.[slurm]')"
    exit 0
fi
t0=$(date +%s)
setup_out=$(tests/slurm/setup_slurm.sh 2>&1); setup_rc=$?
echo "$setup_out"
last=$(echo "$setup_out" | tail -n 1)
case "$last" in
    "SLURM READY:"*) echo "slurm setup: $(($(date +%s) - t0)) s" ;;
    "SLURM SKIP:"*) echo "SKIP slurm: ${last#SLURM SKIP: }"; exit 0 ;;
    *) echo "FAIL slurm: setup_slurm.sh exited $setup_rc"; exit 1 ;;
esac

t1=$(date +%s)
log=$(mktemp)
ROCKZOOM_SLURM=1 "$PY" -m pytest -m slurm -p no:cacheprovider -rs -v -s tests/workflow/test_slurm.py 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
echo "slurm end-to-end test: $(($(date +%s) - t1)) s, pytest exit $rc"
if [ $rc = 0 ] && ! grep -q " passed" "$log"; then rc=1; echo "FAIL slurm: SLURM is up but the test did not run"; fi
if [ $rc = 0 ] && grep -q " skipped" "$log"; then rc=1; echo "FAIL slurm: SLURM is up but a test was skipped"; fi
rm -f "$log"
[ $rc = 0 ] && echo "PASS slurm" || echo "FAIL slurm (pytest exit $rc)"
exit $rc
