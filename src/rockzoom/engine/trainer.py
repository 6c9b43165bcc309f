"""The training loop every trainable stage shares (see ``rockzoom.engine`` for the contract)."""
from __future__ import annotations

import contextlib
import logging
import math
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from rockzoom.engine import distributed
from rockzoom.engine.config import EngineConfig
from rockzoom.engine.curves import plot_curve, read_metrics, write_metrics
from rockzoom.engine.ema import EMA
from rockzoom.engine.schedule import lr_at
from rockzoom.engine.state import (
    BEST_FILE,
    METRICS_FILE,
    config_hash,
    load_resumable,
    save_state,
)
from rockzoom.engine.task import TrainTask
from rockzoom.util.checkpoint import load_checkpoint, model_checkpoint, save_checkpoint

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainResult:
    steps: int
    best_val: float | None
    best_step: int | None
    resumed_from: int  # 0 for a fresh run
    model_out: Path
    seconds: float


def step_seed(seed: int, step: int) -> int:
    return (seed * 1_000_003 + step) % (2**62)


def build_optimizer(model: nn.Module, cfg: EngineConfig, task_groups: list[dict] | None = None) -> torch.optim.Optimizer:
    """AdamW; weight decay only on matrices and kernels (not on biases, norms or 1-D scales), unless the task's
    groups say otherwise; each group keeps an ``lr_scale`` applied to the scheduled lr."""
    groups = []
    for g in task_groups or [{"params": [p for p in model.parameters()]}]:
        params = [p for p in g["params"] if p.requires_grad]
        scale = float(g.get("lr_scale", 1.0))
        if "weight_decay" in g:
            groups.append({"params": params, "weight_decay": g["weight_decay"], "lr_scale": scale})
            continue
        decay = [p for p in params if p.ndim >= 2]
        groups.append({"params": decay, "weight_decay": cfg.weight_decay, "lr_scale": scale})
        groups.append({"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0, "lr_scale": scale})
    return torch.optim.AdamW([g for g in groups if g["params"]], lr=cfg.lr, betas=(0.9, 0.99))


def train(
    task: TrainTask,
    cfg: EngineConfig,
    *,
    model_out: str | Path,
    state_dir: str | Path,
    metrics_csv: str | Path,
    curve_png: str | Path,
    stage_config: dict,
    data_hash: str,
    progress: bool | None = None,
    on_step_end: Callable[[int], None] | None = None,
) -> TrainResult:
    """Train ``task`` to ``cfg.steps`` optimizer steps, resuming from ``state_dir`` when it holds a matching state.

    ``progress``: show a tqdm bar (default: when stderr is a terminal); console log lines are then written above it.
    ``on_step_end(step)`` is called after each completed step and its periodic saves (tests use it to simulate a
    kill). Progress lines go to this module's logger, from the main process only.
    """
    ctx = distributed.setup(cfg.device)
    show_bar = (sys.stderr.isatty() if progress is None else progress) and ctx.is_main
    try:
        with _console_above_bar(show_bar):
            return _train(task, cfg, ctx, Path(model_out), Path(state_dir), Path(metrics_csv), Path(curve_png),
                          stage_config, data_hash, show_bar, on_step_end)
    finally:
        distributed.teardown(ctx)


def _train(task, cfg, ctx, model_out, state_dir, metrics_csv, curve_png, stage_config, data_hash, show_bar,
           on_step_end) -> TrainResult:
    t_start = time.perf_counter()
    info = logger.info if ctx.is_main else _silent
    chash = config_hash(task.kind, stage_config, cfg.result_dict(), data_hash)
    state = load_resumable(state_dir, chash) if ctx.is_main else None
    distributed.barrier(ctx)
    if not ctx.is_main and (state_dir / "state.pt").exists():
        state = load_checkpoint(state_dir / "state.pt")

    torch.manual_seed(cfg.seed)
    model = task.build_model().to(ctx.device)
    task.on_train_start(model, ctx.device)
    ema = EMA(model, cfg.ema_decay) if cfg.ema_decay > 0 else None
    optimizer = build_optimizer(model, cfg, task.param_groups(model))
    start, best_val, best_step, rows = 0, None, None, []
    if state is not None:
        model.load_state_dict(state["model"])
        if ema is not None:
            ema.model.load_state_dict(state["ema"])
        optimizer.load_state_dict(state["optimizer"])
        task.load_extra_state(state.get("extra") or {})
        start, best_val, best_step = int(state["step"]), state["best_val"], state["best_step"]
        rows = read_metrics(state_dir / METRICS_FILE, start)
        info(f"resuming from step {start} (state {state_dir})")
    state_dir.mkdir(parents=True, exist_ok=True)
    n_params = sum(p.numel() for p in model.parameters())
    info(f"{task.kind}: {n_params / 1e6:.2f} M parameters, {cfg.steps} steps of batch {cfg.batch_size} on "
         f"{ctx.device} x{ctx.world_size}, config hash {chash}")

    train_model = model
    if ctx.enabled:
        ids = [ctx.device.index] if ctx.device.type == "cuda" else None
        train_model = DistributedDataParallel(model, device_ids=ids)
    use_bf16 = cfg.bf16 and ctx.device.type == "cuda"
    eval_model = ema.model if ema is not None else model

    bar = tqdm(total=cfg.steps, initial=start, disable=not show_bar, desc=f"train {task.kind}", dynamic_ncols=True)
    interval = _Interval()
    last_saved = start
    if start == 0 and task.validate_initial and ctx.is_main:
        metrics = _validate(task, eval_model)
        best_val, best_step = float(metrics[task.val_key]), 0
        save_checkpoint(state_dir / BEST_FILE, model_checkpoint(
            kind=task.kind, config=stage_config, model_kwargs=task.model_kwargs(),
            state_dict=eval_model.state_dict(), step=0, best_val=best_val, data_hash=data_hash))
        rows.append({"step": 0, **metrics})
        info("validate step 0: " + " ".join(f"{k} {_fmt(v)}" for k, v in metrics.items()))
    distributed.barrier(ctx)

    for step in range(start, cfg.steps):
        t0 = time.perf_counter()
        lr = lr_at(step, cfg)
        for group in optimizer.param_groups:
            group["lr"] = lr * group["lr_scale"]
        generator = torch.Generator().manual_seed(step_seed(cfg.seed, step))
        torch.manual_seed(step_seed(cfg.seed, step) + 7919 * ctx.rank)
        batch = distributed.local_slice(task.sample_batch(step, generator, cfg.batch_size), ctx)
        batch = {k: v.to(ctx.device, non_blocking=True) for k, v in batch.items()}
        model.train()
        autocast = torch.autocast("cuda", dtype=torch.bfloat16) if use_bf16 else contextlib.nullcontext()
        with autocast:
            loss, extras = task.loss(train_model, batch, step)
        loss_value = float(distributed.all_mean(loss.detach().float(), ctx))
        if not math.isfinite(loss_value):
            bar.close()
            raise RuntimeError(
                f"{task.kind}: non-finite loss ({loss_value}) at step {step}; stopped. The last good state "
                f"(step {last_saved}) is kept in {state_dir}"
            )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip) if cfg.grad_clip > 0 else None
        optimizer.step()
        if ema is not None:
            ema.update(model, step)
        done = step + 1
        interval.add(loss_value, extras, None if grad_norm is None else float(grad_norm), time.perf_counter() - t0,
                     cfg.batch_size)
        bar.update(1)

        row = None
        if done % cfg.log_every == 0 or done == cfg.steps:
            row = {"step": done, "lr": lr, **interval.summary()}
            interval = _Interval()
            info(f"step {done}/{cfg.steps} " + " ".join(f"{k} {_fmt(v)}" for k, v in row.items() if k != "step"))
        if done % cfg.val_every == 0 or done == cfg.steps:
            if ctx.is_main:
                metrics = _validate(task, eval_model)
                current = metrics.get(task.val_key)
                if current is None:
                    raise KeyError(f"{type(task).__name__}.validate() returned no {task.val_key!r}: {sorted(metrics)}")
                if best_val is None or current > best_val:
                    best_val, best_step = float(current), done
                    save_checkpoint(state_dir / BEST_FILE, model_checkpoint(
                        kind=task.kind, config=stage_config, model_kwargs=task.model_kwargs(),
                        state_dict=eval_model.state_dict(), step=done, best_val=best_val, data_hash=data_hash))
                row = {**(row or {"step": done}), **metrics}
                info(f"validate step {done}: " + " ".join(f"{k} {_fmt(v)}" for k, v in metrics.items())
                     + f" (best {task.val_key} {_fmt(best_val)} at step {best_step})")
            distributed.barrier(ctx)
        if row is not None:
            rows.append(row)
        if ctx.is_main and (done % cfg.save_every == 0 or done == cfg.steps):
            write_metrics(rows, state_dir / METRICS_FILE)
            save_state(state_dir, {
                "config_hash": chash, "kind": task.kind, "step": done, "best_val": best_val, "best_step": best_step,
                "model": model.state_dict(), "ema": None if ema is None else ema.model.state_dict(),
                "optimizer": optimizer.state_dict(), "extra": task.extra_state(),
            })
            last_saved = done
        if on_step_end is not None:
            on_step_end(done)
    bar.close()

    if ctx.is_main:
        _publish(state_dir, model_out, rows, metrics_csv, curve_png, task, best_step)
    distributed.barrier(ctx)
    seconds = time.perf_counter() - t_start
    info(f"done: best {task.val_key} {_fmt(best_val)} at step {best_step}; model {model_out} ({seconds:.0f} s)")
    return TrainResult(cfg.steps, best_val, best_step, start, model_out, seconds)


@torch.no_grad()
def _validate(task: TrainTask, model: nn.Module) -> dict[str, float]:
    was_training = model.training
    model.eval()
    try:
        return {k: float(v) for k, v in task.validate(model).items()}
    finally:
        model.train(was_training)


def _publish(state_dir, model_out, rows, metrics_csv, curve_png, task, best_step) -> None:
    best = state_dir / BEST_FILE
    if not best.exists():
        raise RuntimeError(f"no validated model in {state_dir}; cannot write {model_out}")
    model_out.parent.mkdir(parents=True, exist_ok=True)
    tmp = model_out.with_name(f".{model_out.name}.tmp")
    shutil.copyfile(best, tmp)
    tmp.replace(model_out)
    write_metrics(rows, metrics_csv)
    plot_curve(rows, task.val_key, curve_png, f"{task.kind}: best {task.val_key} at step {best_step}")


class _Interval:
    """Running averages between two log lines."""

    def __init__(self):
        self.n, self.images, self.seconds, self.loss = 0, 0, 0.0, 0.0
        self.extras: dict[str, float] = {}
        self.grad_norms: list[float] = []

    def add(self, loss, extras, grad_norm, seconds, images):
        self.n += 1
        self.loss += loss
        self.seconds += seconds
        self.images += images
        for k, v in extras.items():
            self.extras[k] = self.extras.get(k, 0.0) + float(v)
        if grad_norm is not None:
            self.grad_norms.append(grad_norm)

    def summary(self) -> dict:
        out = {"loss": self.loss / self.n}
        out.update({k: v / self.n for k, v in self.extras.items()})
        if self.grad_norms:
            out["grad_norm"] = sum(self.grad_norms) / len(self.grad_norms)
        out["images_per_s"] = self.images / self.seconds if self.seconds > 0 else float("nan")
        return out


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _silent(_msg: str) -> None:
    pass


def _console_above_bar(show_bar: bool):
    """While a progress bar is shown, console log handlers (of ``rockzoom`` or the root logger) write through
    ``tqdm.write`` so lines do not break the bar; file handlers are untouched."""
    if not show_bar:
        return contextlib.nullcontext()
    from tqdm.contrib.logging import logging_redirect_tqdm

    def has_console(lg: logging.Logger) -> bool:
        return any(isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)
                   and h.stream in (sys.stdout, sys.stderr) for h in lg.handlers)

    loggers = [lg for lg in (logging.getLogger("rockzoom"), logging.getLogger()) if has_console(lg)]
    return logging_redirect_tqdm(loggers=loggers) if loggers else contextlib.nullcontext()
