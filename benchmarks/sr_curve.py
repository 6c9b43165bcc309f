"""The quality-per-minute curve behind `bench_sr.py --curve`: one training run per (net, LR kind) with the workflow's
own `train_sr`, its EMA weights snapshotted when the run's wall clock passes each budget point, every snapshot then
evaluated on the test splits with the workflow's own `eval_sr`.

Minutes are **CPU minutes**: the training process's CPU time (all threads), so the budget is the compute a run
received even when the machine is shared (wall-clock minutes are reported beside). On an idle 2-core machine a run
that keeps c cores busy (1 <= c <= 2) spends c CPU-minutes per wall minute, so "20 CPU-minutes" is at most
20 wall minutes on 2 cores: the conservative reading of "20 minutes of training on 2 cores".

One run per row, not one run per budget point: the cosine schedule spans the whole run, so an early snapshot is
taken at a higher learning rate than a run budgeted to end there would be (the early points understate what that
budget buys; the last point is exact).
"""
from __future__ import annotations

import copy
import logging
import time
from pathlib import Path

import pandas as pd

from rockzoom.engine.state import STATE_FILE
from rockzoom.models.registry import SR_NETS, count_parameters
from rockzoom.superres.evaluate import eval_sr
from rockzoom.superres.train import train_sr
from rockzoom.util.checkpoint import load_checkpoint, model_checkpoint, save_checkpoint

logger = logging.getLogger("rockzoom.bench.sr_curve")


class Snapshots:
    """``on_step_end`` hook: after the first periodic save past each budget point, copy the EMA weights out."""

    def __init__(self, state_dir: Path, out_dir: Path, minutes: list[float], model_kwargs: dict, save_every: int,
                 stage_config: dict, clock=None):
        self.state_dir, self.out_dir, self.left = state_dir, out_dir, sorted(minutes)
        self.model_kwargs, self.save_every, self.stage_config = model_kwargs, save_every, stage_config
        self.clock = clock or cpu_seconds
        self.t0, self.wall0 = self.clock(), time.perf_counter()
        self.taken: list[dict] = []

    def __call__(self, step: int) -> None:
        elapsed = (self.clock() - self.t0) / 60
        if not self.left or elapsed < self.left[0] or step % self.save_every:
            return
        state = load_checkpoint(self.state_dir / STATE_FILE)
        budget = self.left.pop(0)
        while self.left and elapsed >= self.left[0]:
            self.left.pop(0)
        path = self.out_dir / f"{budget:g}min" / "model.pt"
        weights = state["ema"] if state.get("ema") is not None else state["model"]
        save_checkpoint(path, model_checkpoint(kind="sr", config=self.stage_config, model_kwargs=self.model_kwargs,
                                               state_dict=weights, step=step, best_val=None, data_hash=""))
        wall = (time.perf_counter() - self.wall0) / 60
        self.taken.append({"budget_min": budget, "minutes": elapsed, "wall_minutes": wall, "step": step, "path": path})
        logger.info(f"snapshot {budget:g} min: step {step} at {elapsed:.2f} clock minutes ({wall:.2f} wall)")

    def finish(self, step: int) -> dict:
        return {"budget_min": None, "minutes": (self.clock() - self.t0) / 60,
                "wall_minutes": (time.perf_counter() - self.wall0) / 60, "step": step}


def cpu_seconds() -> float:
    """CPU seconds of this process, all threads."""
    return time.process_time()


def run_curve(data: dict[int, Path], index_csv: Path, work: Path, *, net_name: str, net_cfg: dict, train_cfg: dict,
              lr_source: str, minutes: list[float], seconds_per_step: float, seed: int = 0,
              device: str = "cpu", self_ensemble_last: bool = True, clock=None,
              eval_device: str | None = None) -> pd.DataFrame:
    """Train ``net_name`` on ``data[256]`` with LR from ``lr_source`` for max(minutes); -> one row per snapshot, LR kind
    and test size: PSNR of the net and its gain over bicubic and Lanczos. ``clock``: the minutes' clock (default: this
    process's CPU seconds; ``time.perf_counter`` for wall minutes, as on a GPU); ``eval_device``: where the snapshots
    are evaluated (default ``device``; "cpu" keeps a GPU run's scores in fp32, free of the bf16 inference)."""
    scale = 4
    cfg = copy.deepcopy(train_cfg)
    cfg["lr_source"] = lr_source
    steps = max(20, int(max(minutes) * 60 / (seconds_per_step * 1.05)))
    save_every = max(10, steps // 200)  # a snapshot is taken at a save; GPU runs have thousands of short steps
    cfg["engine"].update(steps=steps, val_every=max(50, steps // 4), save_every=save_every,
                         log_every=max(10, steps // 20), device=device,
                         # a long run's warm-up (config/gpu.yaml: 2000 steps) would fill a short curve
                         warmup_steps=min(cfg["engine"].get("warmup_steps", 0), steps // 20))
    out = work / "curve" / f"{net_name}-{lr_source}"
    state_dir = out / "run.state"
    n_params = count_parameters(SR_NETS.from_config(net_cfg, scale=scale))
    logger.info(f"curve {net_name} ({n_params} params), LR {lr_source}: {steps} steps planned "
                f"({seconds_per_step:.2f} s/step measured)")
    snaps = Snapshots(state_dir, out, minutes[:-1], {"scale": scale, **net_cfg}, save_every,
                      {"scale": scale, "net": dict(net_cfg), "train": cfg}, clock=clock)
    result = train_sr(data[256], model_out=out / "final" / "model.pt", metrics_csv=out / "metrics.csv",
                      curve_png=out / "curve.png", scale=scale, net=net_cfg, train_cfg=cfg, seed=seed,
                      state_dir=state_dir, index_csv=index_csv, progress=False, on_step_end=snaps)
    points = [*snaps.taken, {**snaps.finish(steps), "budget_min": max(minutes), "path": out / "final" / "model.pt"}]
    rows = []
    for point in points:
        last = point is points[-1]
        for size, d in data.items():
            table = eval_sr(d, scale=scale, models=[point["path"]], table_csv=out / f"eval_{point['budget_min']:g}_{size}.csv",
                            crops_png=out / f"crops_{point['budget_min']:g}_{size}.png", device=eval_device or device,
                            measure_memory=False, lr_sources=("bicubic", "pyramid"), index_csv=index_csv,
                            self_ensemble=self_ensemble_last and last)
            for lr_kind, group in table.groupby("lr_source"):
                by = group.set_index("method")
                for method in by.index:
                    if method in ("bicubic", "lanczos"):
                        continue
                    rows.append({"net": net_name, "trained_on": lr_source, "evaluated_on": lr_kind, "hr": size,
                                 "n": int(by.loc[method, "n"]), "budget_min": point["budget_min"],
                                 "cpu_min": round(point["minutes"], 2), "clock": "cpu" if clock is None else "wall",
                                 "wall_min": round(point["wall_minutes"], 2), "step": point["step"],
                                 "self_ensemble": method.endswith("+x8"),
                                 "psnr": by.loc[method, "psnr_pooled"],
                                 "gain_bicubic": by.loc[method, "psnr_pooled"] - by.loc["bicubic", "psnr_pooled"],
                                 "gain_lanczos": by.loc[method, "psnr_pooled"] - by.loc["lanczos", "psnr_pooled"],
                                 "ms_per_image": by.loc[method, "ms_per_image"]})
    return pd.DataFrame(rows)
