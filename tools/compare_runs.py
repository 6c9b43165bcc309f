"""Compare the metric files of two workflow run folders (results/**/metrics*.csv|json, the benchmark and SR tables),
ignoring the columns that measure time or memory. Prints one line per file and exits 1 if any value differs.
usage: compare_runs.py RUN_A RUN_B"""
import json
import sys
from pathlib import Path

import pandas as pd

TIMING = {"images_per_s", "ms_per_image", "peak_mem_mb", "train_minutes", "seconds", "seconds_per_image"}
PATTERNS = ["results/**/metrics*.csv", "results/**/test_metrics.json", "results/benchmark/table.csv",
            "results/sr_eval/**/table.csv"]


def flat(obj, prefix=""):
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k not in TIMING:
                yield from flat(v, f"{prefix}{k}.")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from flat(v, f"{prefix}{i}.")
    else:
        yield prefix.rstrip("."), obj


def values(path: Path) -> dict:
    if path.suffix == ".json":
        return dict(flat(json.loads(path.read_text())))
    table = pd.read_csv(path)
    return dict(flat(table.drop(columns=[c for c in table.columns if c in TIMING]).to_dict("list")))


a, b = Path(sys.argv[1]), Path(sys.argv[2])
files = sorted({p.relative_to(a) for pat in PATTERNS for p in a.glob(pat)})
bad = 0
for rel in files:
    va, vb = values(a / rel), values(b / rel) if (b / rel).exists() else {}
    diff = [k for k in va.keys() | vb.keys() if va.get(k) != vb.get(k)
            and not (isinstance(va.get(k), float) and isinstance(vb.get(k), float) and va[k] != va[k] and vb[k] != vb[k])]
    bad += bool(diff)
    print(f"{'identical' if not diff else 'DIFFERS  '} {rel}" + (f"  ({len(diff)} values, e.g. {sorted(diff)[0]})" if diff else ""))
print(f"{len(files)} files, {bad} differ")
sys.exit(1 if bad else 0)
