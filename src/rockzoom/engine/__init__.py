"""The one training engine reused by every trainable stage (AE, SR, GAN SR, diffusion refiner).

A stage subclasses :class:`TrainTask` (model, batches, loss, validation) and calls :func:`train` with an
:class:`EngineConfig`. The engine provides:

- AdamW (no decay on 1-D params; a task may pass its own groups with an ``lr_scale`` via ``param_groups``),
  linear warmup + cosine decay to ``lr*min_lr_ratio``, grad-norm clipping, EMA
  weights (decay ramped as (1+t)/(10+t)), bf16 autocast on CUDA only;
- determinism: ``seed`` initialises the model; the batch of step ``t`` is drawn from a generator seeded by
  (seed, t), so a resumed run and a run on N processes see exactly the same global batches;
- validation of the EMA model every ``val_every`` steps and at the end (and at step 0 when the task sets
  ``validate_initial``, e.g. after an analytic initialisation); the best by ``task.val_key`` (higher is
  better) is the model written to ``model_out`` (a checkpoint dict, see ``rockzoom.util.checkpoint``);
- resumable state in an undeclared ``state_dir`` (model, EMA, optimizer, step, best, config hash, task extras,
  metrics so far), written atomically every ``save_every`` steps; a state made with another config hash (stage
  config + result-affecting engine settings + data hash) is moved aside to ``{state_dir}.stale-*``, not resumed;
- a non-finite loss raises ``RuntimeError`` naming the step, before the bad step touches weights or state;
- ``metrics.csv`` (step, lr, loss, loss extras, grad_norm, images_per_s, val_*) and ``curve.png``; one log line
  per ``log_every`` steps, a tqdm bar on interactive terminals;
- DDP when launched by torchrun (``WORLD_SIZE > 1``): gloo on CPU, nccl on CUDA; each rank trains on its equal
  slice of the global batch; only rank 0 validates and writes files.
"""
from rockzoom.engine.augment import dihedral, random_dihedral
from rockzoom.engine.config import EngineConfig
from rockzoom.engine.task import TrainTask
from rockzoom.engine.trainer import TrainResult, train

__all__ = ["EngineConfig", "TrainTask", "TrainResult", "train", "random_dihedral", "dihedral"]
