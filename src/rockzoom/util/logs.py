"""Plain line logging for workflow jobs: one line per event, flushed, so `tail -f` on a rule's log works."""
from __future__ import annotations

import logging
import sys
from pathlib import Path


def file_logger(path: str | Path | None, name: str = "rockzoom"):
    """A `log(msg)` callable writing timestamped lines to `path` (and stderr when path is None)."""
    logger = logging.getLogger(f"{name}.{path}")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    if not logger.handlers:
        if path is None:
            handler: logging.Handler = logging.StreamHandler(sys.stderr)
        else:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            handler = logging.FileHandler(path, mode="a")
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S"))
        logger.addHandler(handler)

    def log(message: str) -> None:
        logger.info(message)
        for h in logger.handlers:
            h.flush()

    return log

