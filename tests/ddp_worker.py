"""Run TinyTask under torchrun (used by test_engine's DDP test): python -m torch.distributed.run ... ddp_worker.py OUT"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from tiny_task import TinyTask  # noqa: E402

from rockzoom.engine import EngineConfig, train  # noqa: E402

out = Path(sys.argv[1])
cfg = EngineConfig.from_dict(json.loads(sys.argv[2]))
train(TinyTask(), cfg, model_out=out / "model.pt", state_dir=out / "state", metrics_csv=out / "metrics.csv",
      curve_png=out / "curve.png", stage_config={"t": 1}, data_hash="d", progress=False)
