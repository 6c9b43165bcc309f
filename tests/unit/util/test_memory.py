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
