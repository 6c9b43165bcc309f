"""Where the library's log lines go.

Library modules log through ``logging.getLogger(__name__)`` (all under the ``rockzoom`` logger) and never configure
handlers; the entry points do, once:

* a workflow script calls ``job_logging(snakemake.log[0])`` first: the rule's log file receives the stage's lines and,
  should the job crash, the traceback (which also still goes to stderr);
* the CLI calls ``console_logging()``: lines go to stderr.

One line per event, timestamped and flushed, so ``tail -f`` on a rule's log works.
"""
from __future__ import annotations

import logging
import sys
import traceback
from pathlib import Path

ROOT = "rockzoom"
FORMAT = "%(asctime)s %(message)s"
DATEFMT = "%Y-%m-%d %H:%M:%S"


def _formatter() -> logging.Formatter:
    return logging.Formatter(FORMAT, DATEFMT)


def _root() -> logging.Logger:
    logger = logging.getLogger(ROOT)
    logger.setLevel(logging.INFO)
    return logger


def add_log_file(path: str | Path) -> logging.Handler:
    """Append the ``rockzoom`` logger's lines (INFO and above) to ``path`` (one handler per file, however often
    called)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    logger = _root()
    target = str(path.resolve())
    for h in logger.handlers:
        if isinstance(h, logging.FileHandler) and h.baseFilename == target:
            return h
    handler = logging.FileHandler(path, mode="a")  # StreamHandler.emit flushes after every record
    handler.setFormatter(_formatter())
    logger.addHandler(handler)
    return handler


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (it may be replaced after setup, as pytest does)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def console_logging() -> logging.Handler:
    """Send the ``rockzoom`` logger's lines (INFO and above) to stderr; one handler however often called (the CLI)."""
    logger = _root()
    for h in logger.handlers:
        if isinstance(h, _StderrHandler):
            return h
    handler = _StderrHandler()
    handler.setFormatter(_formatter())
    logger.addHandler(handler)
    return handler


def job_logging(log_path: str | Path) -> None:
    """For a workflow script, called first: the stage's log lines go to ``log_path`` (appended), and an uncaught
    exception is written there with its traceback (as well as to stderr, as before)."""
    handler = add_log_file(log_path)
    if getattr(handler, "_rockzoom_excepthook", False):
        return
    handler._rockzoom_excepthook = True  # type: ignore[attr-defined]
    previous = sys.excepthook

    def excepthook(exc_type, exc, tb):
        try:
            text = "".join(traceback.format_exception(exc_type, exc, tb)).rstrip("\n")
            record = logging.LogRecord(ROOT, logging.CRITICAL, __file__, 0, "uncaught exception:\n%s", (text,), None)
            handler.handle(record)
            handler.flush()
        finally:
            previous(exc_type, exc, tb)

    sys.excepthook = excepthook
