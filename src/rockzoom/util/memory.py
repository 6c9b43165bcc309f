"""Peak resident memory of one call, measured in a process of its own so nothing earlier in the caller hides or
inflates it: one child interpreter per caller imports the call's module once, then forks a process per call (a fork
starts its RSS high-water mark afresh), so a table of many rows pays one torch import, not one a row.

Linux ``VmHWM`` (the RSS high-water mark of the address space, reset by fork and exec) is read before and after the
call; on other systems ``ru_maxrss`` stands in.
"""
from __future__ import annotations

import importlib
import os
import pickle
import resource
import struct
import subprocess
import sys
import traceback
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


_HEADER = struct.Struct("<QQ")  # request: the lengths of (module, sys.path) and of the pickled call; reply: _REPLY
_REPLY = struct.Struct("<Q")


def _serve() -> None:
    """The measuring child: for each request, import the call's module here (once; every fork shares it), fork a
    process that unpickles and measures the call alone, and reply with its message (the bytes or the traceback)."""
    return_large_buffers()  # each request's buffers are unmapped when freed: every fork starts from the same heap
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    while True:
        header = inp.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return  # the caller has gone
        n_meta, n_payload = _HEADER.unpack(header)
        meta, payload = inp.read(n_meta), inp.read(n_payload)
        try:
            module, path = pickle.loads(meta)
            sys.path.extend(p for p in path if p not in sys.path)  # the caller's, as it is now
            importlib.import_module(module)
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(read)
                try:
                    setup, args = pickle.loads(payload)
                    message = f"PEAK_EXTRA_BYTES {_measured(setup, args)}"
                except BaseException:
                    message = traceback.format_exc()
                with os.fdopen(write, "wb") as f:  # any size: the server reads until EOF
                    f.write(message.encode())
                os._exit(0)
            os.close(write)
            with os.fdopen(read, "rb") as f:
                reply = f.read()
            status = os.waitpid(pid, 0)[1]
            reply = reply or f"the measured process ended with wait status {status} (killed?)".encode()
        except Exception:
            reply = traceback.format_exc().encode()
        out.write(_REPLY.pack(len(reply)) + reply)
        out.flush()


class _Server:
    def __init__(self):
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        # a plain child interpreter rather than multiprocessing, which would re-run the caller's ``__main__`` (e.g. a
        # Snakemake script) in the child
        self.proc = subprocess.Popen([sys.executable, "-c", "from rockzoom.util.memory import _serve; _serve()"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)

    def measure(self, setup: Callable, args: tuple) -> int:
        meta, payload = pickle.dumps((setup.__module__, list(sys.path))), pickle.dumps((setup, args))
        try:
            self.proc.stdin.write(_HEADER.pack(len(meta), len(payload)) + meta + payload)
            self.proc.stdin.flush()
            header = self.proc.stdout.read(_REPLY.size)
        except BrokenPipeError:
            header = b""
        if len(header) < _REPLY.size:
            raise RuntimeError(f"memory measurement child exited ({self.proc.poll()})")
        reply = self.proc.stdout.read(_REPLY.unpack(header)[0]).decode(errors="replace")
        if not reply.startswith("PEAK_EXTRA_BYTES "):
            raise RuntimeError(f"memory measurement child failed: {reply[-2000:]}")
        return int(reply.split()[1])


_server: _Server | None = None


def peak_extra_bytes(setup: Callable, *args) -> int:
    """Growth of the RSS high-water mark while ``setup(*args)()`` runs in a process of its own (module docstring).

    ``setup`` must be a module-level function of an importable module; it prepares everything (imports, model
    loading) and returns the call, whose growth alone is measured.
    """
    global _server
    if _server is None or _server.proc.poll() is not None:
        _server = _Server()
    return _server.measure(setup, args)


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
