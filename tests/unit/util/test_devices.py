import os
import subprocess
import sys
import time

import pytest

from rockzoom.util import devices

HOLDER = (
    "import sys, time; from rockzoom.util.devices import acquire_gpus; "
    "print(acquire_gpus(int(sys.argv[1]))[0], flush=True); time.sleep(30)"
)


@pytest.fixture
def fake_gpus(tmp_path, monkeypatch):
    monkeypatch.setenv("ROCKZOOM_NUM_GPUS", "2")
    monkeypatch.setenv("ROCKZOOM_GPU_LOCK_DIR", str(tmp_path))
    for var in devices.ASSIGNED_VARS:
        monkeypatch.delenv(var, raising=False)
    yield
    devices.release_gpus()


def holder(n=1):
    env = {k: v for k, v in os.environ.items() if k not in devices.ASSIGNED_VARS}
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(n)], stdout=subprocess.PIPE, text=True, env=env)
    return proc, int(proc.stdout.readline())


def test_jobs_get_distinct_cards_and_wait_when_all_are_taken(fake_gpus):
    first, slot_a = holder()
    second, slot_b = holder()
    try:
        assert {slot_a, slot_b} == {0, 1}
        with pytest.raises(TimeoutError):
            devices.acquire_gpus(1, timeout_s=0.3, poll_s=0.1)
        first.kill()
        first.wait()  # a killed job frees its card
        assert devices.acquire_gpus(1, timeout_s=5, poll_s=0.1) == [slot_a]
        assert os.environ["CUDA_VISIBLE_DEVICES"] == str(slot_a)
    finally:
        for p in (first, second):
            p.kill()
            p.wait()


def test_multi_gpu_job_takes_all_or_nothing(fake_gpus):
    first, _ = holder()
    try:
        t0 = time.monotonic()
        with pytest.raises(TimeoutError):
            devices.acquire_gpus(2, timeout_s=0.3, poll_s=0.1)
        assert time.monotonic() - t0 < 5
    finally:
        first.kill()
        first.wait()
    assert devices.acquire_gpus(2, timeout_s=5, poll_s=0.1) == [0, 1]


def test_assigned_devices_are_respected(fake_gpus, monkeypatch):
    monkeypatch.setenv("SLURM_JOB_GPUS", "3")
    assert devices.acquire_gpus(1) is None
    assert "CUDA_VISIBLE_DEVICES" not in os.environ


def test_too_many_gpus_is_a_clear_error(fake_gpus):
    with pytest.raises(RuntimeError, match="asks for 3 GPUs but this machine has 2"):
        devices.acquire_gpus(3)


def test_no_gpus_means_nothing_to_do(monkeypatch):
    monkeypatch.setenv("ROCKZOOM_NUM_GPUS", "0")
    assert devices.acquire_gpus(1) is None
