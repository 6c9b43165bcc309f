"""Give each GPU job its own card(s) when Snakemake runs several jobs on one machine.

Snakemake's ``gpu`` resource is only a counter and it never sets ``CUDA_VISIBLE_DEVICES``. ``acquire_gpus(n)``
takes ``n`` free slots among the machine's GPUs by holding an exclusive ``flock`` on one lock file per card, and
exports ``CUDA_VISIBLE_DEVICES`` for this process and its children (torchrun workers). The locks are released
when the process exits, however it exits. Devices already assigned (``CUDA_VISIBLE_DEVICES`` set by the user or by
SLURM, or ``SLURM_JOB_GPUS``/``SLURM_STEP_GPUS``) are respected and nothing is locked.

Must be called before torch initialises CUDA; this module does not import torch.
"""
from __future__ import annotations

import fcntl
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

logger = logging.getLogger(__name__)

ASSIGNED_VARS = ("CUDA_VISIBLE_DEVICES", "SLURM_STEP_GPUS", "SLURM_JOB_GPUS")
_held: list[int] = []  # file descriptors whose locks this process holds


def count_gpus() -> int:
    """Number of GPUs on the machine: ``$ROCKZOOM_NUM_GPUS`` if set, otherwise ``nvidia-smi -L``."""
    forced = os.environ.get("ROCKZOOM_NUM_GPUS")
    if forced is not None:
        return int(forced)
    if shutil.which("nvidia-smi") is None:
        return 0
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30, check=True).stdout
    except (subprocess.SubprocessError, OSError):
        return 0
    return sum(1 for line in out.splitlines() if line.startswith("GPU "))


def lock_dir() -> Path:
    default = Path(tempfile.gettempdir()) / f"rockzoom-gpu-locks-{os.getuid()}"
    return Path(os.environ.get("ROCKZOOM_GPU_LOCK_DIR", default))


def _try_lock(path: Path) -> int | None:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def acquire_gpus(n: int, *, timeout_s: float = 7 * 24 * 3600, poll_s: float = 5.0) -> list[int] | None:
    """Lock ``n`` free GPU slots and set ``CUDA_VISIBLE_DEVICES``; returns the slot ids, or None when nothing was
    done (no GPUs, n == 0, or devices already assigned by the environment)."""
    if n <= 0:
        return None
    for var in ASSIGNED_VARS:
        if os.environ.get(var):
            logger.info(f"GPUs already assigned by {var}={os.environ[var]}; not locking slots")
            return None
    total = count_gpus()
    if total == 0:
        return None
    if n > total:
        raise RuntimeError(f"job asks for {n} GPUs but this machine has {total}")
    directory = lock_dir()
    directory.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout_s
    while True:
        taken: list[tuple[int, int]] = []
        for slot in range(total):
            fd = _try_lock(directory / f"gpu{slot}.lock")
            if fd is not None:
                taken.append((slot, fd))
                if len(taken) == n:
                    break
        if len(taken) == n:
            _held.extend(fd for _, fd in taken)
            slots = [slot for slot, _ in taken]
            os.environ["CUDA_VISIBLE_DEVICES"] = ",".join(map(str, slots))
            logger.info(f"GPU slots {slots} locked in {directory}; "
                        f"CUDA_VISIBLE_DEVICES={os.environ['CUDA_VISIBLE_DEVICES']}")
            return slots
        for _, fd in taken:  # all or nothing, so two multi-GPU jobs cannot deadlock on partial sets
            os.close(fd)
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {n} free GPU slot(s) among {total} in {directory} after {timeout_s:.0f} s")
        time.sleep(poll_s)


def release_gpus() -> None:
    while _held:
        os.close(_held.pop())


def main(argv: list[str] | None = None) -> int:
    """``python -m rockzoom.util.devices N -- command ...``: run a command on N locked GPU slots."""
    from rockzoom.util.logs import console_logging

    argv = sys.argv[1:] if argv is None else argv
    if len(argv) < 3 or argv[1] != "--":
        print("usage: python -m rockzoom.util.devices N_GPUS -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    console_logging()
    acquire_gpus(int(argv[0]))
    return subprocess.run(argv[2:]).returncode


if __name__ == "__main__":
    sys.exit(main())
