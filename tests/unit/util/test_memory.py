import subprocess
import sys

SCRIPT = """
import numpy as np
from rockzoom.util.memory import peak_extra_bytes
from rockzoom.superres.evaluate import _prepare_upscale
print("main ran")
extra = peak_extra_bytes(_prepare_upscale, {"method": "bicubic", "scale": 4}, np.zeros((256, 256, 3), np.float32))
print("extra", extra)
"""


def test_peak_memory_is_measured_without_rerunning_the_callers_main(tmp_path):
    # a Snakemake script is the __main__ of its job: the measurement child must not execute it again
    script = tmp_path / "job.py"
    script.write_text(SCRIPT)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True).stdout
    assert out.count("main ran") == 1
    extra = int(out.split("extra")[1])
    # bicubic x4 of a 256² float image allocates at least its 1024² float32 RGB output (12 MiB)
    assert 12 * 2**20 <= extra < 2**30



def test_return_large_buffers_sets_the_threshold_on_glibc():
    """glibc accepts the fixed mmap threshold (what the generate job calls first); elsewhere it says it did nothing."""
    import platform

    from rockzoom.util.memory import return_large_buffers

    assert return_large_buffers() is (platform.system() == "Linux" and platform.libc_ver()[0] == "glibc")


ALLOCATOR = """
import numpy as np


def prepare(mib):
    if mib < 0:
        raise ValueError("a setup that fails")
    return lambda: np.ones(mib * 2**20 // 8).sum()  # touches every page of the array
"""


def test_each_call_is_measured_alone_from_a_module_on_the_callers_path(tmp_path, monkeypatch):
    import pytest

    from rockzoom.util.memory import peak_extra_bytes

    for name in ("first", "second"):
        (tmp_path / name).mkdir()
        (tmp_path / name / f"allocator_{name}.py").write_text(ALLOCATOR)
    monkeypatch.syspath_prepend(str(tmp_path / "first"))
    import allocator_first

    assert peak_extra_bytes(allocator_first.prepare, 16) / 2**20 >= 16  # the measuring child runs from here on
    monkeypatch.syspath_prepend(str(tmp_path / "second"))  # a path the child was not started with
    import allocator_second

    sizes = [peak_extra_bytes(allocator_second.prepare, mib) / 2**20 for mib in (64, 16, 64)]
    assert 64 <= sizes[0] < 64 + 16 and 16 <= sizes[1] < 16 + 16  # the array, not what an earlier call grew to
    assert abs(sizes[2] - sizes[0]) < 4
    with pytest.raises(RuntimeError, match="a setup that fails"):
        peak_extra_bytes(allocator_second.prepare, -1)
    assert peak_extra_bytes(allocator_second.prepare, 16) / 2**20 >= 16  # the child is still there
