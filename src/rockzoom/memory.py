"""Peak resident memory of one call, measured in a fresh process so nothing earlier in this one hides or inflates it.

Linux ``VmHWM`` (the RSS high-water mark of the address space, reset by exec) is read before and after the call;
on other systems ``ru_maxrss`` stands in.
"""
from __future__ import annotations

import multiprocessing
import resource
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


def peak_extra_bytes(setup: Callable, *args) -> int:
    """Growth of the RSS high-water mark while ``setup(*args)()`` runs in a fresh (spawned) process.

    ``setup`` must be a module-level function; it prepares everything (imports, model loading) and returns the call.
    """
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_measured, (setup, args))
