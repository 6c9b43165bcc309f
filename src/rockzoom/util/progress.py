"""Progress where a person waits: a tqdm bar with ETA on an interactive terminal, and otherwise (a rule's log, a
pipe) one log line with count, rate and ETA every ``log_every_s`` seconds, formatted by tqdm as well.

    for tile in progress(tiles, total=len(tiles), desc="index"):
        ...
"""
from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")
LOG = logging.getLogger(__name__)


class _LogLines:
    """A file-like object that turns each of tqdm's refreshes into one log line."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger

    def write(self, text: str) -> None:
        line = text.strip("\r\n ")
        if line:
            self.logger.info(line)

    def flush(self) -> None:
        pass


def interactive() -> bool:
    return sys.stderr.isatty()


def progress_bar(total: int | None, desc: str, *, unit: str = "it", log_every_s: float = 30.0,
                 logger: logging.Logger | None = None, initial: int = 0) -> tqdm:
    """A tqdm object: a bar on a terminal, periodic log lines otherwise (``update(n)`` it by hand)."""
    if interactive():
        return tqdm(total=total, desc=desc, unit=unit, initial=initial, dynamic_ncols=True)
    return tqdm(total=total, desc=desc, unit=unit, initial=initial, file=_LogLines(logger or LOG),
                mininterval=log_every_s, maxinterval=max(log_every_s, 60.0), ascii=True, ncols=80)


def progress(items: Iterable[T], *, total: int | None = None, desc: str, unit: str = "it",
             log_every_s: float = 30.0, logger: logging.Logger | None = None) -> Iterator[T]:
    """Iterate ``items`` while showing progress (see the module docstring)."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with progress_bar(total, desc, unit=unit, log_every_s=log_every_s, logger=logger) as bar:
        for item in items:
            yield item
            bar.update(1)
