"""Peak resident memory of one call, measured in a fresh process so nothing earlier in this one hides or inflates it.

Linux ``VmHWM`` (the RSS high-water mark of the address space, reset by exec) is read before and after the call;
on other systems ``ru_maxrss`` stands in.
"""
from __future__ import annotations

import os
import pickle
import resource
import subprocess
import sys
from typing import Callable


def rss_high_water_bytes() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _measured(setup: Callable, args: tuple) -> int:
    call = setup(*args)  # returns the zero-argument call to measure; its set-up is not counted
    before = rss_high_water_bytes()
    call()
    return rss_high_water_bytes() - before


_CHILD = (
    "import pickle, sys\n"
    "from rockzoom.util.memory import _measured\n"
    "setup, args = pickle.load(sys.stdin.buffer)\n"
    "print('PEAK_EXTRA_BYTES', _measured(setup, args))\n"
)


def peak_extra_bytes(setup: Callable, *args) -> int:
    """Growth of the RSS high-water mark while ``setup(*args)()`` runs in a fresh Python process.

    ``setup`` must be a module-level function; it prepares everything (imports, model loading) and returns the call.
    A plain child interpreter is used rather than multiprocessing, which would re-run the caller's ``__main__``
    (e.g. a Snakemake script) in the child.
    """
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    proc = subprocess.run([sys.executable, "-c", _CHILD], input=pickle.dumps((setup, args)), env=env,
                          capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(f"memory measurement child failed: {proc.stderr.decode(errors='replace')[-2000:]}")
    return int(proc.stdout.decode().split("PEAK_EXTRA_BYTES")[1].split()[0])


def release_mapped_pages(*arrays) -> None:
    """Unmap from this process the pages a read-only memory map (``np.load(..., mmap_mode="r")``) has read so far.
    They stay in the page cache and a later read maps them again, so a loop over a memory-mapped tree holds the
    tiles in hand, not every tile it has read (file-backed pages count in RSS). Plain arrays are left alone."""
    import mmap

    for a in arrays:
        m = getattr(a, "_mmap", None)
        if isinstance(m, mmap.mmap) and hasattr(m, "madvise"):
            m.madvise(mmap.MADV_DONTNEED)


def return_large_buffers(threshold_bytes: int = 1 << 20) -> bool:
    """Have glibc serve every allocation of ``threshold_bytes`` or more by its own mmap, returned to the system when
    freed. By default glibc raises that threshold to the largest buffer freed so far, so a job that frees many tens-of-
    MB arrays (the realism measures' per-image descriptors) afterwards carves them from its heap, where freed space
    stays resident. Process-wide; a no-op returning False off glibc."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if not name or not os.uname().sysname == "Linux":
        return False
    try:
        libc = ctypes.CDLL(name)
        return bool(libc.mallopt(-3, int(threshold_bytes)))  # M_MMAP_THRESHOLD (fixed: no dynamic raise)
    except (OSError, AttributeError):
        return False
