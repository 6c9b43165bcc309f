"""Engine overhead: training-step throughput of rockzoom.engine.train ÷ a bare forward+backward+AdamW loop on the
same model and the same fixed batch (goal >= 0.9). Both are timed in this run, alternately, after warm-up steps.

    .venv/bin/python benchmarks/bench_train.py [--size 256] [--batch 8] [--steps 30] [--rounds 2]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch
from rockzoom.config import ae_arch, load_config

from rockzoom.autoencoder.loss import reconstruction_loss
from rockzoom.autoencoder.task import model_kwargs_for
from rockzoom.engine import EngineConfig, TrainTask, train
from rockzoom.models.vit_ae import ViTAutoencoder

WARMUP = 3


class FixedBatchTask(TrainTask):
    kind = "bench"
    val_key = "val_neg_loss"

    def __init__(self, kwargs, batch, loss_weights):
        self.kwargs, self.batch, self.weights = kwargs, batch, loss_weights

    def build_model(self):
        return ViTAutoencoder(**self.kwargs)

    def model_kwargs(self):
        return self.kwargs

    def sample_batch(self, step, generator, batch_size):
        return self.batch

    def loss(self, model, batch, step):
        return reconstruction_loss(model(batch["images"]), batch["images"], batch["masks"], self.weights)

    def validate(self, model):
        return {"val_neg_loss": 0.0}


def bare_steps_per_s(task: FixedBatchTask, cfg: EngineConfig, steps: int) -> float:
    """The minimal loop: batch to device, forward (bf16 autocast on CUDA as in the engine), backward, AdamW."""
    device = torch.device(cfg.device)
    torch.manual_seed(cfg.seed)
    model = task.build_model().to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr)
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda" and cfg.bf16)
    for i in range(WARMUP + steps):
        if i == WARMUP:
            _sync(device)
            t0 = time.perf_counter()
        batch = {k: v.to(device, non_blocking=True) for k, v in task.batch.items()}
        with autocast:
            loss, _ = task.loss(model, batch, i)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    _sync(device)
    return steps / (time.perf_counter() - t0)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def engine_steps_per_s(task: FixedBatchTask, cfg: EngineConfig, steps: int) -> float:
    marks = {}

    def mark(step):
        _sync(torch.device(cfg.device))
        marks[step] = time.perf_counter()

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        train(task, cfg, model_out=tmp / "m.pt", state_dir=tmp / "state", metrics_csv=tmp / "m.csv",
              curve_png=tmp / "c.png", stage_config={}, data_hash="bench", progress=False,
              on_step_end=mark)
    # steps WARMUP+1 .. WARMUP+steps, excluding the final validation/save of the last step
    return (steps - 1) / (marks[WARMUP + steps - 1] - marks[WARMUP])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config/config.yaml")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    args = parser.parse_args()

    config = load_config(args.config)
    name, arch = config["ae"]["arch"], ae_arch(config)
    kwargs = model_kwargs_for(arch["model"], args.size)
    gen = torch.Generator().manual_seed(0)
    batch = {"images": torch.rand(args.batch, 3, args.size, args.size, generator=gen),
             "masks": torch.ones(args.batch, args.size, args.size, dtype=torch.bool)}
    task = FixedBatchTask(kwargs, batch, arch["loss"])
    total = WARMUP + args.steps
    cfg = EngineConfig.from_dict({**arch["engine"], "steps": total, "batch_size": args.batch, "val_every": total,
                                  "save_every": max(1, arch["engine"]["save_every"]), "log_every": arch["engine"]["log_every"],
                                  "seed": 0, "device": args.device})
    bare, engine = [], []
    for _ in range(args.rounds):
        bare.append(bare_steps_per_s(task, cfg, args.steps))
        engine.append(engine_steps_per_s(task, cfg, args.steps))
    b, e = max(bare), max(engine)
    print(f"arch {name} at {args.size} px, batch {args.batch}, {args.steps} timed steps x {args.rounds} rounds, "
          f"{args.device} ({torch.cuda.get_device_name() if args.device == 'cuda' else f'{torch.get_num_threads()} threads'}) (engine: EMA {cfg.ema_decay}, grad clip {cfg.grad_clip}, "
          f"state saved every {cfg.save_every} steps)")
    print(f"bare fwd+bwd+AdamW: {b:.3f} steps/s ({b * args.batch:.1f} img/s); rounds {[round(x, 3) for x in bare]}")
    print(f"engine:            {e:.3f} steps/s ({e * args.batch:.1f} img/s); rounds {[round(x, 3) for x in engine]}")
    print(f"engine / bare = {e / b:.3f} (goal >= 0.9)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
