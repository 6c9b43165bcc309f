"""Kill-and-resume helpers shared by the training and workflow tests."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import torch

from rockzoom.util.checkpoint import load_checkpoint


class Killed(Exception):
    """Stands for a SIGKILL at the end of a training step (what was not saved yet is lost)."""


def kill_at(step: int):
    """An ``on_step_end`` callback that kills the training at ``step``."""
    def callback(s: int) -> None:
        if s == step:
            raise Killed
    return callback


def killed_then_resumed(train, out: Path, kill_step: int):
    """``train(out_dir, **kw)`` killed at ``kill_step``, then rerun -> (the rerun's TrainResult, its checkpoint)."""
    with pytest.raises(Killed):
        train(out, on_step_end=kill_at(kill_step))
    assert not (out / "model.pt").exists()
    result = train(out)
    assert result.resumed_from == kill_step
    return result, load_checkpoint(out / "model.pt")


def assert_same_weights(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k])


def sigkill_snakemake_when(cmd: list[str], cwd: Path, log: Path, marker: str, timeout: float) -> None:
    """Start Snakemake, SIGKILL its whole process group once ``marker`` shows in ``log``, and check it got there."""
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not (log.exists() and marker in log.read_text()):
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert log.exists() and marker in log.read_text(), f"the job never logged {marker!r} within {timeout} s"
