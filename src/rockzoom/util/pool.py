"""Worker processes whose memory does not grow with the number of tasks.

Two things make a plain ``ProcessPoolExecutor.map`` over a survey-sized task list grow with the tree:

- ``map`` submits every task at once: a future, its arguments and, once done, its result per task;
- forked workers inherit the parent's heap as it is when they start. If the workers are started after the
  40,000-tile plan is built, every worker holds that plan: its pages count in each worker's RSS, and they are
  copied once Python's garbage collector or reference counts touch them in the worker.

``warm_pool`` therefore forks its workers at once, before the caller builds its task list, and ``ordered_map``
keeps at most ``workers * ahead`` chunks in flight. Fork, not spawn: spawned workers would re-run a Snakemake
``script:`` (an unguarded ``__main__``).
"""
from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


@contextmanager
def warm_pool(workers: int) -> Iterator[Executor | None]:
    """A process pool whose ``workers`` processes are all started now (None for workers <= 1: run in-process)."""
    if workers <= 1:
        yield None
        return
    pool = ProcessPoolExecutor(max_workers=workers)
    try:
        pool.submit(int).result()  # with fork, the first submit starts every worker
        yield pool
    finally:
        pool.shutdown(cancel_futures=True)


def ordered_map(fn: Callable[[T], R], tasks: Iterable[T], pool: Executor | None, ahead: int = 4,
                chunksize: int = 1) -> Iterator[R]:
    """fn over tasks, results in task order, on ``pool`` (in this process when None), with at most
    ``pool._max_workers * ahead`` chunks of ``chunksize`` tasks submitted and not yet consumed. ``fn`` must be a
    module-level function."""
    if pool is None:
        yield from map(fn, tasks)
        return
    limit = max(1, getattr(pool, "_max_workers", 1) * ahead)
    pending: deque = deque()
    chunk: list = []
    try:
        for task in tasks:
            chunk.append(task)
            if len(chunk) == chunksize:
                pending.append(pool.submit(_run_chunk, fn, chunk))
                chunk = []
                while len(pending) >= limit:
                    yield from pending.popleft().result()
        if chunk:
            pending.append(pool.submit(_run_chunk, fn, chunk))
        while pending:
            yield from pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()


def _run_chunk(fn: Callable[[T], R], chunk: list[T]) -> list[R]:
    return [fn(task) for task in chunk]
